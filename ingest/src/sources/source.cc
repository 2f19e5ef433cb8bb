#include "vigil/ingest/source.h"

#include <cstdio>

#include "vigil/cep/hash.h"
#include "vigil/ingest/decoder.h"

namespace vigil::ingest {

bool ParseDurability(std::string_view text, Durability* out) {
  if (text == "sync")
    *out = Durability::kSync;
  else if (text == "buffered")
    *out = Durability::kBuffered;
  else if (text == "none")
    *out = Durability::kNone;
  else
    return false;
  return true;
}

const char* DurabilityName(Durability d) {
  switch (d) {
    case Durability::kSync:
      return "sync";
    case Durability::kBuffered:
      return "buffered";
    case Durability::kNone:
      return "none";
  }
  return "?";
}

const char* SourceStateName(SourceState s) {
  switch (s) {
    case SourceState::kStarting:
      return "starting";
    case SourceState::kRunning:
      return "running";
    case SourceState::kReconnecting:
      return "reconnecting";
    case SourceState::kError:
      return "error";
    case SourceState::kFinished:
      return "finished";
    case SourceState::kStopped:
      return "stopped";
  }
  return "?";
}

uint64_t RecordIdentity(std::string_view stream, const Record& r) {
  // Partitions of one stream have independent position sequences.
  return EventIdentity(stream, cep::HashCombine(r.partition, r.position));
}

void LogToStderr(LogLevel level, const std::string& message) {
  const char* name = level == LogLevel::kError     ? "error"
                     : level == LogLevel::kWarning ? "warning"
                                                   : "info";
  std::fprintf(stderr, "vigil: %s: %s\n", name, message.c_str());
}

MetadataBinder::MetadataBinder(const std::vector<std::string>& fields,
                               const cep::FieldRegistry& registry) {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (auto id = registry.Find(fields[i])) slots_.emplace_back(i, *id);
  }
}

void MetadataBinder::Apply(const Record& r, cep::Event* event) const {
  for (const auto& [index, id] : slots_) {
    if (index >= r.metadata.size() || id >= event->field_count()) continue;
    event->SetField(id, cep::Value::String(event->CopyString(r.metadata[index])));
  }
}

std::string PositionKey(std::string_view stream, uint32_t partition) {
  std::string key(stream);
  key += '/';
  key += std::to_string(partition);
  return key;
}

std::string EncodePosition(const std::vector<std::pair<std::string, uint64_t>>& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out += ';';
    out += name;
    out += '=';
    out += std::to_string(value);
  }
  return out;
}

bool DecodePositionField(std::string_view encoded, std::string_view name, uint64_t* value) {
  size_t start = 0;
  while (start <= encoded.size()) {
    size_t end = encoded.find(';', start);
    if (end == std::string_view::npos) end = encoded.size();
    std::string_view item = encoded.substr(start, end - start);
    size_t eq = item.find('=');
    if (eq != std::string_view::npos && item.substr(0, eq) == name) {
      std::string_view digits = item.substr(eq + 1);
      if (digits.empty()) return false;
      uint64_t v = 0;
      for (char c : digits) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + static_cast<uint64_t>(c - '0');
      }
      *value = v;
      return true;
    }
    start = end + 1;
  }
  return false;
}

}  // namespace vigil::ingest

// The rules of the running daemon: loading them (config.rules, documents applied through
// the admin API under state.dir/api-rules/, enable/delete overrides in the store), their
// admin view, and changes (Apply, Delete, Enable/Disable, SIGHUP).
#include <malloc.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "daemon.h"
#include "footprint.h"

namespace vigil::edge {

namespace {

namespace fs = std::filesystem;

constexpr std::string_view kOverridePrefix = "edge.rule/";

const char* KindName(cep::RuleKind k) {
  switch (k) {
    case cep::RuleKind::kSingleEvent: return "single_event";
    case cep::RuleKind::kPattern: return "pattern";
    case cep::RuleKind::kThreshold: return "threshold";
  }
  return "";
}

bool ValidDocumentName(const std::string& name) {
  if (name.empty() || name.size() > 100 || name[0] == '.') return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The text of the rule at `line` of `text` (the line of its id): from the start of its
// mapping ("- id: x", or the first key if the id is not first) through the lines indented
// at least as far as its keys (block-style YAML).
std::string RuleText(const std::string& text, int line) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  if (line < 1 || static_cast<size_t>(line) > lines.size()) return "";
  auto indent_of = [](const std::string& l) {
    size_t f = l.find_first_not_of(' ');
    if (f != std::string::npos && l[f] == '-') f = l.find_first_not_of(' ', f + 1);
    return f;
  };
  size_t first = static_cast<size_t>(line - 1);
  const size_t indent = indent_of(lines[first]);
  if (indent == std::string::npos) return "";
  // The id may not be the mapping's first key: go back to its "- ".
  while (first > 0 && lines[first].find_first_not_of(' ') == indent) {
    const std::string& prev = lines[first - 1];
    size_t f = prev.find_first_not_of(' ');
    if (f == std::string::npos || f > indent || (f < indent && prev[f] != '-')) break;
    --first;
    if (prev[f] == '-') break;
  }
  std::string out, pending;  // blank and comment lines, kept if the rule goes on after them
  for (size_t i = first; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    size_t f = l.find_first_not_of(' ');
    if (i > first) {
      if (f == std::string::npos || l[f] == '#') {
        pending += l + "\n";
        continue;
      }
      if (f < indent) break;
    }
    out += pending + l + "\n";
    pending.clear();
  }
  return out;
}

std::string JoinDiagnostics(const rules::Diagnostics& diags) {
  std::string out;
  for (const rules::Diagnostic& d : diags) out += (out.empty() ? "" : "\n") + d.ToString();
  return out;
}

}  // namespace

std::string Daemon::ApiRulesDir() const { return config_.state.dir + "/api-rules"; }

Result<Daemon::LoadedRules> Daemon::LoadRules(cep::FieldRegistry* fields) {
  std::vector<std::string> paths = config_.rules;
  std::error_code ec;
  bool api_docs = false;
  for (const auto& e : fs::directory_iterator(ApiRulesDir(), ec)) api_docs |= e.path().extension() == ".yaml";
  if (api_docs) paths.push_back(ApiRulesDir());
  rules::Diagnostics diags;
  LoadedRules out;
  out.ruleset = rules::LoadRuleset(paths, fields, &diags);
  if (!diags.empty()) return vigil::Status::InvalidArgument(JoinDiagnostics(diags));

  std::map<std::string, std::string> overrides;
  vigil::Status st = store_->Scan(
      cep::StateFamily::kMeta, kOverridePrefix, std::string(kOverridePrefix) + "\xff",
      [&](std::string_view key, std::string_view value) {
        overrides[std::string(key.substr(kOverridePrefix.size()))] = std::string(value);
        return true;
      });
  if (!st.ok()) return vigil::Status::IOError("rule overrides in " + store_->Describe() + ": " + st.message());
  auto& rules = out.ruleset.rules;
  rules.erase(std::remove_if(rules.begin(), rules.end(),
                             [&](const rules::Rule& r) {
                               auto it = overrides.find(r.id);
                               return it != overrides.end() && it->second == "deleted";
                             }),
              rules.end());
  std::string errors;
  for (rules::Rule& r : rules) {
    if (auto it = overrides.find(r.id); it != overrides.end()) r.enabled = it->second == "enabled";
    auto sinks = router_->Resolve(r.sinks);
    if (!sinks.ok()) {
      rules::Diagnostic d{r.pos, "rule '" + r.id + "': sinks: " + sinks.status().message()};
      errors += (errors.empty() ? "" : "\n") + d.ToString();
      continue;
    }
    out.sinks[r.id] = *sinks;
  }
  if (!errors.empty()) return vigil::Status::InvalidArgument(errors);
  return out;
}

void Daemon::PublishRulesView(const rules::Ruleset& ruleset) {
  const std::string api_dir = ApiRulesDir() + "/";
  std::vector<v1::Rule> view;
  for (const rules::Rule& r : ruleset.rules) {
    v1::Rule p;
    p.set_id(r.id);
    p.set_title(r.title);
    p.set_description(r.description);
    p.set_severity(rules::SeverityName(r.severity));
    for (const std::string& t : r.tags) p.add_tags(t);
    p.set_kind(KindName(r.spec.kind));
    p.set_stream(r.stream);
    for (const std::string& k : r.spec.key_names) p.add_key(k);
    for (const std::string& s : r.sinks) p.add_sinks(s);
    p.set_enabled(r.enabled);
    std::string file = r.file;
    if (file.rfind(api_dir, 0) == 0 && file.size() > api_dir.size() + 5) {
      file = "api:" + file.substr(api_dir.size(), file.size() - api_dir.size() - 5);
    }
    p.set_source_file(file);
    p.set_semantics_hash(r.semantics_hash);
    // Where to read the text from, for GetRule (not sent in List).
    p.set_yaml(r.file + ":" + std::to_string(r.pos.line) + ":" + std::to_string(r.pos.column));
    view.push_back(std::move(p));
  }
  std::lock_guard<std::mutex> lock(rules_mu_);
  rules_view_ = std::move(view);
}

std::vector<v1::Rule> Daemon::ListRules() {
  std::lock_guard<std::mutex> lock(rules_mu_);
  std::vector<v1::Rule> out = rules_view_;
  for (v1::Rule& r : out) r.clear_yaml();
  return out;
}

Result<v1::Rule> Daemon::GetRule(const std::string& id) {
  v1::Rule found;
  {
    std::lock_guard<std::mutex> lock(rules_mu_);
    auto it = std::find_if(rules_view_.begin(), rules_view_.end(), [&](const v1::Rule& r) { return r.id() == id; });
    if (it == rules_view_.end()) return vigil::Status::NotFound("no rule '" + id + "' is loaded");
    found = *it;
  }
  // "file:line:column" of the rule, set by PublishRulesView.
  std::string where = found.yaml();
  size_t c2 = where.rfind(':');
  size_t c1 = where.rfind(':', c2 - 1);
  std::string file = where.substr(0, c1);
  int line = std::atoi(where.substr(c1 + 1, c2 - c1 - 1).c_str());
  found.set_yaml(RuleText(ReadFile(file), line));
  return found;
}

v1::ValidateRulesResponse Daemon::ValidateRules(const std::string& yaml, const std::string& name) {
  v1::ValidateRulesResponse out;
  cep::FieldRegistry scratch;
  rules::Diagnostics diags;
  rules::Ruleset rs = rules::LoadRulesetFromString(yaml, name.empty() ? "api" : name, &scratch, &diags);
  for (const rules::Rule& r : rs.rules) {
    auto sinks = router_->Resolve(r.sinks);
    if (!sinks.ok()) diags.push_back({r.pos, "rule '" + r.id + "': sinks: " + sinks.status().message()});
  }
  for (const rules::Diagnostic& d : diags) {
    v1::Diagnostic* p = out.add_errors();
    p->mutable_position()->set_file(d.pos.file);
    p->mutable_position()->set_line(d.pos.line);
    p->mutable_position()->set_column(d.pos.column);
    p->set_message(d.message);
    p->set_text(d.ToString());
  }
  out.set_valid(diags.empty());
  if (diags.empty()) {
    for (const rules::Rule& r : rs.rules) out.add_rule_ids(r.id);
  }
  return out;
}

Result<RulesChange> Daemon::ChangeRules(const std::function<vigil::Status()>& persist,
                                                const std::function<void()>& revert) {
  if (vigil::Status st = persist(); !st.ok()) return st;
  // A registry of its own: the running pipeline's is left as it is if this fails.
  auto fields = std::make_shared<cep::FieldRegistry>();
  auto loaded = LoadRules(fields.get());
  if (!loaded.ok()) {
    revert();
    return loaded.status();
  }
  auto sinks = loaded->sinks;
  auto change = ReplaceEngineRules(std::move(loaded).value(), fields);
  if (!change.ok()) {
    revert();
    return change.status();
  }
  fields_ = std::move(fields);
  rule_sinks_ = std::move(sinks);
  PublishRulesView(pipeline_->ruleset());
  RefreshSnapshot();
  // As after startup: compiling freed more than it keeps, and its code is not needed again.
  malloc_trim(0);
  ReleaseStartupPages();
  return change;
}

void Daemon::Reload() {
  Log(ingest::LogLevel::kInfo, "SIGHUP: reloading rules");
  auto change = ChangeRules([] { return vigil::Status::Ok(); }, [] {});
  if (!change.ok()) {
    reload_failures_.fetch_add(1);
    Log(ingest::LogLevel::kError, "rules not reloaded, the running ones stay: " + change.status().message());
    return;
  }
  reloads_.fetch_add(1);
  Log(ingest::LogLevel::kInfo, "rules reloaded: " + std::to_string(change->added.size()) + " added, " +
                                   std::to_string(change->changed.size()) + " changed, " +
                                   std::to_string(change->unchanged.size()) + " unchanged, " +
                                   std::to_string(change->removed.size()) + " removed");
}

Result<v1::ApplyRulesResponse> Daemon::ApplyRules(const std::string& yaml, const std::string& raw_name) {
  const std::string name = raw_name.empty() ? "api" : raw_name;
  if (!ValidDocumentName(name)) {
    return vigil::Status::InvalidArgument("document name '" + name +
                                          "': use letters, digits, '-', '_' and '.' (at most 100)");
  }
  v1::ValidateRulesResponse check = ValidateRules(yaml, "api:" + name);
  if (!check.valid()) {
    std::string all;
    for (const auto& e : check.errors()) all += (all.empty() ? "" : "\n") + e.text();
    return vigil::Status::InvalidArgument(all);
  }
  const std::string path = ApiRulesDir() + "/" + name + ".yaml";
  Result<RulesChange> change = vigil::Status::Unavailable("not run");
  vigil::Status ran = OnPipeline([&] {
    std::error_code ec;
    bool existed = fs::exists(path, ec);
    std::string old = existed ? ReadFile(path) : "";
    std::vector<std::function<void()>> undo;
    change = ChangeRules(
        [&]() -> vigil::Status {
          fs::create_directories(ApiRulesDir(), ec);
          std::ofstream out(path + ".tmp", std::ios::binary | std::ios::trunc);
          out << yaml;
          out.close();
          if (!out) return vigil::Status::IOError("cannot write " + path + ".tmp");
          fs::rename(path + ".tmp", path, ec);
          if (ec) return vigil::Status::IOError("cannot write " + path + ": " + ec.message());
          // Applying a document brings back rules of it that were deleted.
          for (const std::string& id : check.rule_ids()) {
            std::function<void()> r;
            std::string v;
            auto got = store_->Get(cep::StateFamily::kMeta, std::string(kOverridePrefix) + id, &v);
            if (got.ok() && *got && v == "deleted" && SetOverride(id, "", &r).ok()) undo.push_back(r);
          }
          return vigil::Status::Ok();
        },
        [&] {
          std::error_code e2;
          if (existed) {
            std::ofstream(path, std::ios::binary | std::ios::trunc) << old;
          } else {
            fs::remove(path, e2);
          }
          for (auto& u : undo) u();
        });
  });
  if (!ran.ok()) return ran;
  if (!change.ok()) return change.status();
  v1::ApplyRulesResponse out;
  for (const auto& id : change->added) out.add_added(id);
  for (const auto& id : change->changed) out.add_changed(id);
  for (const auto& id : change->unchanged) out.add_unchanged(id);
  for (const auto& id : change->removed) out.add_removed(id);
  return out;
}

vigil::Status Daemon::SetOverride(const std::string& id, const std::string& value,
                                  std::function<void()>* revert) {
  const std::string key = std::string(kOverridePrefix) + id;
  std::string old;
  auto got = store_->Get(cep::StateFamily::kMeta, key, &old);
  if (!got.ok()) return got.status();
  bool had = *got;
  cep::StateBatch b;
  if (value.empty()) {
    b.Delete(cep::StateFamily::kMeta, key);
  } else {
    b.Put(cep::StateFamily::kMeta, key, value);
  }
  if (vigil::Status st = store_->Write(b, true); !st.ok()) return st;
  *revert = [this, key, had, old] {
    cep::StateBatch r;
    if (had) {
      r.Put(cep::StateFamily::kMeta, key, old);
    } else {
      r.Delete(cep::StateFamily::kMeta, key);
    }
    store_->Write(r, true);
  };
  return vigil::Status::Ok();
}

vigil::Status Daemon::DeleteRule(const std::string& id) {
  if (!GetRule(id).ok()) return vigil::Status::NotFound("no rule '" + id + "' is loaded");
  Result<RulesChange> change = vigil::Status::Unavailable("not run");
  vigil::Status ran = OnPipeline([&] {
    std::function<void()> revert = [] {};
    change = ChangeRules([&] { return SetOverride(id, "deleted", &revert); }, [&] { revert(); });
  });
  if (!ran.ok()) return ran;
  return change.ok() ? vigil::Status::Ok() : change.status();
}

vigil::Status Daemon::SetRuleEnabled(const std::string& id, bool enabled) {
  if (!GetRule(id).ok()) return vigil::Status::NotFound("no rule '" + id + "' is loaded");
  Result<RulesChange> change = vigil::Status::Unavailable("not run");
  vigil::Status ran = OnPipeline([&] {
    std::function<void()> revert = [] {};
    change = ChangeRules([&] { return SetOverride(id, enabled ? "enabled" : "disabled", &revert); },
                         [&] { revert(); });
  });
  if (!ran.ok()) return ran;
  return change.ok() ? vigil::Status::Ok() : change.status();
}

}  // namespace vigil::edge

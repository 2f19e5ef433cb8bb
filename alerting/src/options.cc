#include "vigil/alerting/options.h"

#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>

#include "vigil/cep/time.h"

namespace vigil::alerting {

Result<std::string> SecretSource::Env(const std::string& name) const {
  const char* v = std::getenv(name.c_str());
  if (!v) return Status::NotFound("environment variable " + name + " is not set");
  return std::string(v);
}

Result<std::string> SecretSource::File(const std::string& path) const {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status::NotFound("cannot read " + path);
  std::stringstream ss;
  ss << f.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

const SecretSource* SecretSource::Default() {
  static const SecretSource source;
  return &source;
}

bool ParseBytes(std::string_view text, uint64_t* out) {
  size_t i = 0;
  uint64_t n = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    if (n > std::numeric_limits<uint64_t>::max() / 10) return false;
    n = n * 10 + static_cast<uint64_t>(text[i] - '0');
    ++i;
  }
  if (i == 0) return false;
  std::string unit(text.substr(i));
  for (char& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  uint64_t mult = 0;
  if (unit.empty() || unit == "B") mult = 1;
  else if (unit == "KB" || unit == "KIB") mult = 1ull << 10;
  else if (unit == "MB" || unit == "MIB") mult = 1ull << 20;
  else if (unit == "GB" || unit == "GIB") mult = 1ull << 30;
  else if (unit == "TB" || unit == "TIB") mult = 1ull << 40;
  else return false;
  if (n > std::numeric_limits<uint64_t>::max() / mult) return false;
  *out = n * mult;
  return true;
}

namespace {

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t prev = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cur = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] == b[j - 1] ? 0 : 1)});
      prev = cur;
    }
  }
  return row[b.size()];
}

const char* TypeName(OptionType t) {
  switch (t) {
    case OptionType::kString: return "string";
    case OptionType::kBool: return "bool";
    case OptionType::kInt: return "int";
    case OptionType::kDuration: return "duration";
    case OptionType::kBytes: return "size";
    case OptionType::kEnum: return "enum";
    case OptionType::kStringList: return "list of strings";
    case OptionType::kStringMap: return "map of strings";
  }
  return "?";
}

Status Bad(const std::string& path, const ConfigValue& v, const std::string& msg) {
  std::string m = path + ": " + msg;
  if (!v.where.empty()) m = v.where + ": " + m;
  return Status::InvalidArgument(m);
}

// Reads one scalar-ish value of type `spec.type`.
Status ReadValue(const OptionSpec& spec, const ConfigValue& v, const std::string& path,
                 OptionValue* out) {
  switch (spec.type) {
    case OptionType::kStringList:
      if (v.is_scalar()) {
        out->list.push_back(v.scalar());
        return Status::Ok();
      }
      if (!v.is_list()) return Bad(path, v, std::string("expected a list, got ") + v.KindName());
      for (size_t i = 0; i < v.items().size(); ++i) {
        const ConfigValue& item = v.items()[i];
        if (!item.is_scalar()) {
          return Bad(path + "[" + std::to_string(i) + "]", item,
                     std::string("expected a string, got ") + item.KindName());
        }
        out->list.push_back(item.scalar());
      }
      return Status::Ok();
    case OptionType::kStringMap:
      if (!v.is_map()) return Bad(path, v, std::string("expected a map, got ") + v.KindName());
      for (const auto& [k, item] : v.entries()) {
        if (!item.is_scalar()) {
          return Bad(path + "." + k, item, std::string("expected a string, got ") + item.KindName());
        }
        out->map.emplace_back(k, item.scalar());
      }
      return Status::Ok();
    default: break;
  }
  if (!v.is_scalar()) return Bad(path, v, std::string("expected a value, got ") + v.KindName());
  const std::string& s = v.scalar();
  out->text = s;
  switch (spec.type) {
    case OptionType::kString: return Status::Ok();
    case OptionType::kBool:
      if (s == "true" || s == "yes" || s == "on") out->flag = true;
      else if (s == "false" || s == "no" || s == "off") out->flag = false;
      else return Bad(path, v, "'" + s + "' is not true or false");
      return Status::Ok();
    case OptionType::kInt: {
      char* end = nullptr;
      errno = 0;
      long long n = std::strtoll(s.c_str(), &end, 10);
      if (s.empty() || *end != '\0' || errno != 0) {
        return Bad(path, v, "'" + s + "' is not an integer");
      }
      out->number = n;
      return Status::Ok();
    }
    case OptionType::kDuration: {
      auto d = cep::ParseDuration(s);
      if (!d.ok()) return Bad(path, v, "'" + s + "' is not a duration (like 500ms, 30s, 5m)");
      out->number = *d;
      return Status::Ok();
    }
    case OptionType::kBytes: {
      uint64_t n = 0;
      if (!ParseBytes(s, &n) || n > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return Bad(path, v, "'" + s + "' is not a size (like 64MB, 1GB)");
      }
      out->number = static_cast<int64_t>(n);
      return Status::Ok();
    }
    case OptionType::kEnum: {
      std::string_view choices = spec.choices;
      size_t start = 0;
      while (start <= choices.size()) {
        size_t bar = choices.find('|', start);
        if (bar == std::string_view::npos) bar = choices.size();
        if (choices.substr(start, bar - start) == s) return Status::Ok();
        start = bar + 1;
      }
      std::string list(choices);
      for (char& c : list) if (c == '|') c = ',';
      return Bad(path, v, "'" + s + "' is not one of " + list);
    }
    default: return Status::Ok();
  }
}

}  // namespace

Result<std::vector<std::pair<size_t, OptionValue>>> OptionSet::Parse(
    const ConfigValue& map, const std::string& path, const SecretSource& secrets,
    const std::vector<std::string>& ignore) const {
  if (!map.is_map()) return Bad(path, map, std::string("expected a map, got ") + map.KindName());
  // Flatten one level of nested sections ("tls": {...} -> "tls.ca_file").
  std::vector<std::pair<std::string, const ConfigValue*>> keys;
  for (const auto& [k, v] : map.entries()) {
    bool is_section = false;
    for (const OptionSpec& s : specs_) {
      if (s.name.size() > k.size() && s.name.compare(0, k.size(), k) == 0 &&
          s.name[k.size()] == '.') {
        is_section = true;
        break;
      }
    }
    if (is_section) {
      if (!v.is_map()) {
        return Bad(path + "." + k, v, std::string("expected a map, got ") + v.KindName());
      }
      for (const auto& [sub, sv] : v.entries()) keys.emplace_back(k + "." + sub, &sv);
    } else {
      keys.emplace_back(k, &v);
    }
  }
  std::vector<std::pair<size_t, OptionValue>> out;
  std::vector<bool> seen(specs_.size(), false);
  for (const auto& [key, value] : keys) {
    bool ignored = false;
    for (const std::string& i : ignore) ignored = ignored || i == key;
    if (ignored) continue;
    std::string key_path = path + "." + key;
    size_t index = specs_.size();
    bool via_env = false, via_file = false;
    for (size_t i = 0; i < specs_.size(); ++i) {
      const OptionSpec& s = specs_[i];
      if (s.secret) {
        if (key == s.name + "_env") via_env = true;
        else if (key == s.name + "_file") via_file = true;
        else if (key == s.name) {
          return Bad(key_path, *value, "a secret is not written in the config; use " + s.name +
                                           "_env (an environment variable) or " + s.name +
                                           "_file (a file)");
        } else continue;
        index = i;
        break;
      }
      if (key == s.name) {
        index = i;
        break;
      }
    }
    if (index == specs_.size()) {
      std::string best;
      size_t best_d = 3;
      for (const OptionSpec& s : specs_) {
        std::string name = s.secret ? s.name + "_env" : s.name;
        size_t d = EditDistance(key, name);
        if (d < best_d) best_d = d, best = name;
      }
      return Bad(key_path, *value,
                 best.empty() ? "unknown option" : "unknown option (did you mean '" + best + "'?)");
    }
    const OptionSpec& spec = specs_[index];
    if (seen[index]) return Bad(key_path, *value, "given twice (" + spec.name + ")");
    seen[index] = true;
    OptionValue ov;
    if (via_env || via_file) {
      if (!value->is_scalar()) {
        return Bad(key_path, *value, std::string("expected a name, got ") + value->KindName());
      }
      auto secret = via_env ? secrets.Env(value->scalar()) : secrets.File(value->scalar());
      if (!secret.ok()) return Bad(key_path, *value, secret.status().message());
      if (secret->empty()) return Bad(key_path, *value, "the secret is empty");
      ConfigValue text = ConfigValue::Scalar(*secret);
      if (Status s = ReadValue(spec, text, key_path, &ov); !s.ok()) return s;
    } else if (Status s = ReadValue(spec, *value, key_path, &ov); !s.ok()) {
      return s;
    }
    out.emplace_back(index, std::move(ov));
  }
  for (size_t i = 0; i < specs_.size(); ++i) {
    if (seen[i]) continue;
    const OptionSpec& s = specs_[i];
    if (s.required) {
      std::string name = s.secret ? s.name + "_env" : s.name;
      return Bad(path + "." + name, map,
                 s.secret ? "required (or " + s.name + "_file)" : std::string("required"));
    }
    if (!s.default_value.empty()) {
      OptionValue ov;
      Status st = ReadValue(s, ConfigValue::Scalar(s.default_value), path + "." + s.name, &ov);
      if (!st.ok()) return st;  // a wrong default is a bug in the table; say so
      out.emplace_back(i, std::move(ov));
    }
  }
  return out;
}

std::string OptionSet::Markdown() const {
  std::string md = "| option | type | default | description |\n|---|---|---|---|\n";
  for (const OptionSpec& s : specs_) {
    md += "| `";
    md += s.secret ? s.name + "_env` / `" + s.name + "_file" : s.name;
    md += "` | ";
    if (s.type == OptionType::kEnum) {
      for (char c : s.choices) md += c == '|' ? std::string(", ") : std::string(1, c);
    } else {
      md += TypeName(s.type);
    }
    md += " | ";
    md += s.required ? "**required**" : s.default_value.empty() ? "" : "`" + s.default_value + "`";
    md += " | ";
    for (char c : s.description) md += c == '|' ? std::string("\\|") : std::string(1, c);
    if (s.secret) md += " (secret)";
    md += " |\n";
  }
  return md;
}

}  // namespace vigil::alerting

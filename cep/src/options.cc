#include "vigil/cep/options.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace vigil::cep {

ConfigNode ConfigNode::Scalar(std::string text, int line, int column) {
  ConfigNode n;
  n.kind_ = Kind::kScalar;
  n.text_ = std::move(text);
  n.line_ = line;
  n.column_ = column;
  return n;
}

ConfigNode ConfigNode::List(int line, int column) {
  ConfigNode n;
  n.kind_ = Kind::kList;
  n.line_ = line;
  n.column_ = column;
  return n;
}

ConfigNode ConfigNode::Map(int line, int column) {
  ConfigNode n;
  n.kind_ = Kind::kMap;
  n.line_ = line;
  n.column_ = column;
  return n;
}

const ConfigNode* ConfigNode::Find(std::string_view key) const {
  if (kind_ != Kind::kMap) return nullptr;
  for (const auto& [k, v] : fields_) {
    if (k == key) return &v;
  }
  return nullptr;
}

ConfigNode& ConfigNode::Append(ConfigNode item) {
  items_.push_back(std::move(item));
  return items_.back();
}

ConfigNode& ConfigNode::Set(std::string key, ConfigNode value) {
  for (auto& [k, v] : fields_) {
    if (k == key) {
      v = std::move(value);
      return v;
    }
  }
  fields_.emplace_back(std::move(key), std::move(value));
  return fields_.back().second;
}

const char* OptionTypeName(OptionType t) {
  switch (t) {
    case OptionType::kString: return "string";
    case OptionType::kInt: return "integer";
    case OptionType::kBool: return "bool";
    case OptionType::kDuration: return "duration";
    case OptionType::kBytes: return "size";
    case OptionType::kEnum: return "enum";
    case OptionType::kStringList: return "list of strings";
    case OptionType::kSecret: return "secret";
    case OptionType::kNode: return "map";
    case OptionType::kStringMap: return "map of strings";
  }
  return "?";
}

const SecretSource& SecretSource::Process() {
  static const SecretSource source{
      [](const std::string& name, std::string* value) {
        const char* v = std::getenv(name.c_str());
        if (v == nullptr) return false;
        *value = v;
        return true;
      },
      [](const std::string& path, std::string* contents) {
        std::ifstream in(path, std::ios::binary);
        if (!in) return Status::NotFound("cannot read '" + path + "'");
        std::stringstream ss;
        ss << in.rdbuf();
        *contents = ss.str();
        return Status::Ok();
      }};
  return source;
}

bool ParseBoolOption(std::string_view text, bool* out) {
  if (text == "true" || text == "yes" || text == "on") {
    *out = true;
    return true;
  }
  if (text == "false" || text == "no" || text == "off") {
    *out = false;
    return true;
  }
  return false;
}

bool ParseIntOption(std::string_view text, int64_t* out) {
  if (text.empty() || text.size() > 20) return false;
  std::string s(text);
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno != 0 || end != s.c_str() + s.size()) return false;
  *out = v;
  return true;
}

bool ParseBytesOption(std::string_view text, uint64_t* out) {
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  if (i == 0) return false;
  std::string number(text.substr(0, i));
  char* end = nullptr;
  double v = std::strtod(number.c_str(), &end);
  if (end != number.c_str() + number.size() || !std::isfinite(v)) return false;
  std::string unit(text.substr(i));
  while (!unit.empty() && unit.front() == ' ') unit.erase(0, 1);
  std::transform(unit.begin(), unit.end(), unit.begin(), [](unsigned char c) { return std::toupper(c); });
  double mult;
  if (unit.empty() || unit == "B") mult = 1;
  else if (unit == "KB" || unit == "K") mult = 1e3;
  else if (unit == "MB" || unit == "M") mult = 1e6;
  else if (unit == "GB" || unit == "G") mult = 1e9;
  else if (unit == "TB" || unit == "T") mult = 1e12;
  else if (unit == "KIB") mult = 1024.0;
  else if (unit == "MIB") mult = 1024.0 * 1024;
  else if (unit == "GIB") mult = 1024.0 * 1024 * 1024;
  else if (unit == "TIB") mult = 1024.0 * 1024 * 1024 * 1024;
  else return false;
  double bytes = v * mult;
  if (bytes > 1.8e19) return false;
  *out = static_cast<uint64_t>(std::llround(bytes));
  return true;
}

namespace {

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string Join(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

std::string Describe(const ConfigNode& n) {
  switch (n.kind()) {
    case ConfigNode::Kind::kNull: return "nothing";
    case ConfigNode::Kind::kScalar: return "'" + n.text() + "'";
    case ConfigNode::Kind::kList: return "a list";
    case ConfigNode::Kind::kMap: return "a map";
  }
  return "?";
}

}  // namespace

std::string DidYouMean(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = SIZE_MAX;
  for (const std::string& c : candidates) {
    size_t d = EditDistance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  size_t limit = std::max<size_t>(2, word.size() / 3);
  return best_d <= limit && best_d < word.size() ? best : std::string();
}

const char kBytesUnitsMarkdown[] =
    "A size is a number of bytes, optionally followed by a unit (any case): `KB`, `MB`, `GB`, `TB` "
    "(or `K`, `M`, `G`, `T`) are powers of 1000 and `KiB`, `MiB`, `GiB`, `TiB` powers of 1024, so "
    "`256MB` is 256,000,000 bytes and `256MiB` 268,435,456; fractions such as `1.5GiB` are allowed.";

std::string PositionPrefix(const ConfigNode* node) {
  if (node == nullptr || node->line() <= 0) return {};
  return std::to_string(node->line()) + ":" + std::to_string(node->column() > 0 ? node->column() : 1) + ": ";
}

Status OptionError(const ConfigNode* at, const std::string& path, const std::string& message) {
  return Status::InvalidArgument(PositionPrefix(at) + path + ": " + message);
}

namespace options_internal {

namespace {

// One level of a (possibly nested) table: `specs` are the options of this map, their
// names without the prefix of the level; `index[i]` is spec i's index in the whole table.
void ApplyLevel(const std::vector<Spec>& specs, const std::vector<size_t>& index,
                const ConfigNode& map, const std::string& path, const SecretSource& secrets,
                const std::vector<std::string>& ignore,
                const std::function<std::string(size_t, const OptionValue&)>& apply,
                std::vector<std::string>& errors) {
  // "line:column: path.key: message" when the tree knows where the value (or, for a
  // missing key, its map) was written; "path.key: message" otherwise.
  auto fail = [&](const std::string& key, const std::string& msg) {
    const ConfigNode* at = map.Find(key);
    if (at == nullptr || at->line() == 0) at = &map;
    errors.push_back(PositionPrefix(at) + Join(path, key) + ": " + msg);
  };
  if (!map.is_null() && !map.is_map()) {
    errors.push_back(PositionPrefix(&map) + (path.empty() ? std::string("configuration") : path) +
                     ": expected a map of options, got " + Describe(map));
    return;
  }

  // Options of nested maps ("tls.ca_file") are handled one level down, per prefix.
  std::vector<Spec> direct;
  std::vector<size_t> direct_index;
  std::vector<std::string> prefixes;
  for (size_t i = 0; i < specs.size(); ++i) {
    size_t dot = specs[i].name.find('.');
    if (dot == std::string::npos) {
      direct.push_back(specs[i]);
      direct_index.push_back(index[i]);
    } else if (std::find(prefixes.begin(), prefixes.end(), specs[i].name.substr(0, dot)) == prefixes.end()) {
      prefixes.push_back(specs[i].name.substr(0, dot));
    }
  }
  for (const std::string& prefix : prefixes) {
    std::vector<Spec> sub;
    std::vector<size_t> sub_index;
    for (size_t i = 0; i < specs.size(); ++i) {
      if (specs[i].name.rfind(prefix + ".", 0) != 0) continue;
      Spec child = specs[i];
      child.name = child.name.substr(prefix.size() + 1);
      sub.push_back(std::move(child));
      sub_index.push_back(index[i]);
    }
    // `security.protocol: x` written flat (as librdkafka and Kafka users write it) is
    // the same option as `security: {protocol: x}`; the two spellings merge, and a key
    // given both ways is an error.
    static const ConfigNode kNullNode;
    const ConfigNode* child = map.Find(prefix);
    ConfigNode merged;
    bool flat = false;
    if (map.is_map()) {
      for (const auto& [key, value] : map.fields()) {
        if (key.size() <= prefix.size() + 1 || key.compare(0, prefix.size() + 1, prefix + ".") != 0) continue;
        if (!flat) {
          flat = true;
          if (child != nullptr && !child->is_null() && !child->is_map()) break;  // reported below
          merged = child != nullptr && child->is_map() ? *child : ConfigNode::Map(value.line(), value.column());
        }
        std::string rest = key.substr(prefix.size() + 1);
        if (merged.Find(rest) != nullptr) {
          fail(key, "given twice: as '" + key + "' and as '" + rest + "' under '" + prefix + "'");
          continue;
        }
        merged.Set(rest, value);
      }
    }
    if (flat && merged.is_map()) child = &merged;
    ApplyLevel(sub, sub_index, child ? *child : kNullNode, Join(path, prefix), secrets, {}, apply, errors);
  }

  // Every key written must be an option (secrets as <name>_env / <name>_file).
  std::vector<std::string> known = prefixes;
  for (const Spec& s : direct) {
    if (s.type == OptionType::kSecret) {
      known.push_back(s.name + "_env");
      known.push_back(s.name + "_file");
    } else {
      known.push_back(s.name);
    }
  }
  if (map.is_map()) {
    for (const auto& [key, value] : map.fields()) {
      if (std::find(known.begin(), known.end(), key) != known.end()) continue;
      size_t dot = key.find('.');
      if (dot != std::string::npos &&
          std::find(prefixes.begin(), prefixes.end(), key.substr(0, dot)) != prefixes.end()) {
        continue;  // checked one level down, as part of its nested map
      }
      if (std::find(ignore.begin(), ignore.end(), key) != ignore.end()) continue;
      bool inline_secret = false;
      for (const Spec& s : specs) {
        if (s.type == OptionType::kSecret && s.name == key) inline_secret = true;
      }
      if (inline_secret) {
        fail(key, "secrets are not written in the file: use " + key + "_env (an environment "
                  "variable) or " + key + "_file (a file holding it)");
        continue;
      }
      std::vector<std::string> all = known;
      all.insert(all.end(), ignore.begin(), ignore.end());
      std::string hint = DidYouMean(key, all);
      fail(key, "unknown option" + (hint.empty() ? std::string() : "; did you mean '" + hint + "'?"));
    }
  }

  static const ConfigNode kNull;
  for (size_t i = 0; i < direct.size(); ++i) {
    const Spec& s = direct[i];
    OptionValue v;
    v.type = s.type;
    std::string written = s.name;  // the key the value came from (a secret's _env or _file)
    if (s.type == OptionType::kSecret) {
      const ConfigNode* env = map.Find(s.name + "_env");
      const ConfigNode* file = map.Find(s.name + "_file");
      if (env && file) {
        fail(s.name + "_env", "give either " + s.name + "_env or " + s.name + "_file, not both");
        continue;
      }
      const ConfigNode* given = env ? env : file;
      if (!given) {
        if (s.required) fail(s.name + "_env", "required (or " + s.name + "_file)");
        continue;
      }
      std::string key = s.name + (env ? "_env" : "_file");
      written = key;
      if (!given->is_scalar() || given->text().empty()) {
        fail(key, std::string("expected ") + (env ? "a variable name" : "a file path") +
                      ", got " + Describe(*given));
        continue;
      }
      if (env) {
        if (!secrets.getenv(given->text(), &v.text)) {
          fail(key, "environment variable " + given->text() + " is not set");
          continue;
        }
      } else {
        Status rs = secrets.read_file(given->text(), &v.text);
        if (!rs.ok()) {
          fail(key, rs.message());
          continue;
        }
        while (!v.text.empty() && (v.text.back() == '\n' || v.text.back() == '\r')) v.text.pop_back();
      }
      v.node = given;
    } else {
      const ConfigNode* given = map.Find(s.name);
      ConfigNode defaulted;
      if (given == nullptr || given->is_null()) {
        if (s.required) {
          fail(s.name, "required");
          continue;
        }
        if (s.default_value.empty()) continue;
        defaulted = ConfigNode::Scalar(s.default_value);
        given = &defaulted;
      }
      v.node = given;
      if (s.type == OptionType::kNode) {
        v.node = given == &defaulted ? &kNull : given;
        if (given == &defaulted) continue;  // nested tables have their own defaults
      } else if (s.type == OptionType::kStringMap) {
        if (!given->is_map()) {
          fail(s.name, "expected a map of names to strings, got " + Describe(*given));
          continue;
        }
        bool ok = true;
        for (const auto& [k, item] : given->fields()) {
          if (!item.is_scalar()) {
            fail(s.name, "the value of '" + k + "' must be a string, got " + Describe(item));
            ok = false;
            break;
          }
          v.map.emplace_back(k, item.text());
        }
        if (!ok) continue;
      } else if (s.type == OptionType::kStringList) {
        if (given->is_scalar()) {
          v.list.push_back(given->text());
        } else if (given->is_list()) {
          bool ok = true;
          for (const ConfigNode& item : given->items()) {
            if (!item.is_scalar()) {
              fail(s.name, "expected a list of strings, got an item that is " + Describe(item));
              ok = false;
              break;
            }
            v.list.push_back(item.text());
          }
          if (!ok) continue;
        } else {
          fail(s.name, "expected a list of strings, got " + Describe(*given));
          continue;
        }
      } else {
        if (!given->is_scalar()) {
          fail(s.name, std::string("expected a ") + OptionTypeName(s.type) + ", got " + Describe(*given));
          continue;
        }
        v.text = given->text();
        switch (s.type) {
          case OptionType::kInt:
            if (!ParseIntOption(v.text, &v.integer)) {
              fail(s.name, "expected an integer, got '" + v.text + "'");
              continue;
            }
            break;
          case OptionType::kBool:
            if (!ParseBoolOption(v.text, &v.boolean)) {
              fail(s.name, "expected true or false, got '" + v.text + "'");
              continue;
            }
            break;
          case OptionType::kDuration: {
            auto d = ParseDuration(v.text);
            if (!d.ok()) {
              fail(s.name, "expected a duration such as 250ms, 5s or 1h30m, got '" + v.text + "'");
              continue;
            }
            v.duration = *d;
            break;
          }
          case OptionType::kBytes:
            if (!ParseBytesOption(v.text, &v.bytes)) {
              fail(s.name, "expected a size such as 4096, 64KB, 256MB or 1GiB, got '" + v.text + "'");
              continue;
            }
            break;
          case OptionType::kEnum:
            if (std::find(s.choices.begin(), s.choices.end(), v.text) == s.choices.end()) {
              std::string all;
              for (const std::string& c : s.choices) all += (all.empty() ? "" : " | ") + c;
              std::string hint = DidYouMean(v.text, s.choices);
              fail(s.name, "expected one of " + all + ", got '" + v.text + "'" +
                               (hint.empty() ? "" : "; did you mean '" + hint + "'?"));
              continue;
            }
            break;
          default: break;
        }
      }
    }
    std::string msg = apply(direct_index[i], v);
    if (!msg.empty()) fail(written, msg);
  }
}

}  // namespace

Status Apply(const std::vector<Spec>& specs, const ConfigNode& map, const std::string& path,
             const SecretSource& secrets, const std::vector<std::string>& ignore,
             const std::function<std::string(size_t, const OptionValue&)>& apply) {
  std::vector<size_t> index(specs.size());
  for (size_t i = 0; i < specs.size(); ++i) index[i] = i;
  std::vector<std::string> errors;
  ApplyLevel(specs, index, map, path, secrets, ignore, apply, errors);
  if (errors.empty()) return Status::Ok();
  std::string all;
  for (const std::string& e : errors) all += (all.empty() ? "" : "\n") + e;
  return Status::InvalidArgument(all);
}

std::string Markdown(const std::vector<Spec>& specs) {
  std::string md = "| option | type | default | description |\n|---|---|---|---|\n";
  for (const Spec& s : specs) {
    std::string name = s.type == OptionType::kSecret ? s.name + "_env / " + s.name + "_file" : s.name;
    std::string type = OptionTypeName(s.type);
    if (s.type == OptionType::kEnum) {
      type.clear();
      for (const std::string& c : s.choices) type += (type.empty() ? "" : " \\| ") + c;
    }
    std::string def = s.required ? "required" : (s.default_value.empty() ? "" : "`" + s.default_value + "`");
    md += "| `" + name + "` | " + type + " | " + def + " | " + s.description + " |\n";
  }
  return md;
}

}  // namespace options_internal

}  // namespace vigil::cep

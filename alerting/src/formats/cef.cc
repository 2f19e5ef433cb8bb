// ArcSight Common Event Format. Escaping per the CEF specification (Micro Focus,
// "Implementing ArcSight CEF", revision 25): in the header, '\' and '|' are escaped
// with '\'; in extension values, '\' and '=' are, and line breaks are written as \n
// or \r. Header fields cannot hold line breaks at all, so they become spaces.
#include "formats/formats.h"

namespace vigil::alerting {

int CefSeverity(std::string_view severity) {
  switch (SeverityRank(severity)) {
    case 0: return 1;
    case 1: return 3;
    case 2: return 5;
    case 3: return 8;
    case 4: return 10;
    default: return 0;
  }
}

void AppendCefHeaderField(std::string_view s, std::string* out) {
  for (char c : s) {
    if (c == '\\' || c == '|') {
      out->push_back('\\');
      out->push_back(c);
    } else if (c == '\n' || c == '\r') {
      out->push_back(' ');
    } else {
      out->push_back(c);
    }
  }
}

void AppendCefExtensionValue(std::string_view s, std::string* out) {
  for (char c : s) {
    switch (c) {
      case '\\': out->append("\\\\"); break;
      case '=': out->append("\\="); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      default: out->push_back(c);
    }
  }
}

std::string CefMessage(const AlertView& a, const SinkContext& context) {
  std::string m = "CEF:0|Vigil|Vigil|";
  AppendCefHeaderField(context.version, &m);
  m.push_back('|');
  AppendCefHeaderField(a.rule_id(), &m);
  m.push_back('|');
  AppendCefHeaderField(a.rule_title().empty() ? a.rule_id() : a.rule_title(), &m);
  m.push_back('|');
  m += std::to_string(CefSeverity(a.severity()));
  m.push_back('|');
  auto ext = [&](const char* key, std::string_view value) {
    if (m.back() != '|') m.push_back(' ');
    m += key;
    m.push_back('=');
    AppendCefExtensionValue(value, &m);
  };
  ext("rt", std::to_string(a.time() / cep::kMillisecond));
  ext("dvchost", context.node_id);
  ext("externalId", a.id());
  if (!a.tags().empty()) {
    std::string cat;
    for (const std::string& t : a.tags()) cat += (cat.empty() ? "" : ",") + t;
    ext("cat", cat);
  }
  // cs1..cs6 are CEF's six custom string fields; keys with more fields keep the first six
  // here (the whole key is in the JSON formats).
  for (size_t i = 0; i < a.key().size() && i < 6; ++i) {
    std::string n = std::to_string(i + 1);
    ext(("cs" + n + "Label").c_str(), a.key()[i].first);
    ext(("cs" + n).c_str(), a.key()[i].second);
  }
  ext("msg", a.summary());
  return m;
}

}  // namespace vigil::alerting

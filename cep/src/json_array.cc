#include "vigil/cep/json_array.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace vigil::cep {

namespace json_array_internal {

namespace {

void SkipSpace(std::string_view s, size_t* p) {
  while (*p < s.size() && (s[*p] == ' ' || s[*p] == '\t' || s[*p] == '\n' || s[*p] == '\r')) ++*p;
}

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool Hex4(std::string_view s, size_t p, unsigned* out) {
  if (p + 4 > s.size()) return false;
  unsigned v = 0;
  for (size_t i = 0; i < 4; ++i) {
    int h = Hex(s[p + i]);
    if (h < 0) return false;
    v = v * 16 + static_cast<unsigned>(h);
  }
  *out = v;
  return true;
}

void AppendUtf8(unsigned cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// The string starting at s[*p] == '"'; advances past the closing quote.
bool ParseString(std::string_view s, size_t* p, Value* out) {
  size_t start = *p + 1, i = start;
  bool escaped = false;
  while (i < s.size() && s[i] != '"') {
    if (s[i] == '\\') {
      escaped = true;
      ++i;
    }
    ++i;
  }
  if (i >= s.size()) return false;
  std::string_view raw = s.substr(start, i - start);
  *p = i + 1;
  if (!escaped) {
    *out = Value::String(raw);
    return true;
  }
  thread_local std::string buf;
  buf.clear();
  for (size_t k = 0; k < raw.size(); ++k) {
    char c = raw[k];
    if (c != '\\' || k + 1 >= raw.size()) {
      buf.push_back(c);
      continue;
    }
    char e = raw[++k];
    switch (e) {
      case 'n': buf.push_back('\n'); break;
      case 't': buf.push_back('\t'); break;
      case 'r': buf.push_back('\r'); break;
      case 'b': buf.push_back('\b'); break;
      case 'f': buf.push_back('\f'); break;
      case 'u': {
        unsigned cp = 0;
        if (!Hex4(raw, k + 1, &cp)) return false;
        k += 4;
        if (cp >= 0xD800 && cp < 0xDC00 && k + 2 < raw.size() && raw[k + 1] == '\\' && raw[k + 2] == 'u') {
          unsigned lo = 0;
          if (Hex4(raw, k + 3, &lo) && lo >= 0xDC00 && lo < 0xE000) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            k += 6;
          }
        }
        AppendUtf8(cp, &buf);
        break;
      }
      default: buf.push_back(e);  // \" \\ \/
    }
  }
  *out = Value::String(buf);
  return true;
}

// Skips a nested array or object starting at s[*p].
bool SkipNested(std::string_view s, size_t* p) {
  int depth = 0;
  for (size_t i = *p; i < s.size(); ++i) {
    char c = s[i];
    if (c == '"') {
      ++i;
      while (i < s.size() && s[i] != '"') {
        if (s[i] == '\\') ++i;
        ++i;
      }
      continue;
    }
    if (c == '[' || c == '{') ++depth;
    if (c == ']' || c == '}') {
      if (--depth == 0) {
        *p = i + 1;
        return true;
      }
    }
  }
  return false;
}

}  // namespace

bool NextElement(std::string_view s, size_t* p, Value* out, bool* skip) {
  SkipSpace(s, p);
  if (*p >= s.size() || s[*p] == ']') return false;
  *skip = false;
  char c = s[*p];
  if (c == '"') {
    if (!ParseString(s, p, out)) return false;
  } else if (c == '[' || c == '{') {
    if (!SkipNested(s, p)) return false;
    *skip = true;
  } else if (s.compare(*p, 4, "true") == 0) {
    *out = Value::Bool(true);
    *p += 4;
  } else if (s.compare(*p, 5, "false") == 0) {
    *out = Value::Bool(false);
    *p += 5;
  } else if (s.compare(*p, 4, "null") == 0) {
    *out = Value::Null();
    *p += 4;
  } else {
    size_t start = *p;
    bool integral = true;
    while (*p < s.size() && std::strchr("+-0123456789.eE", s[*p]) != nullptr) {
      if (s[*p] == '.' || s[*p] == 'e' || s[*p] == 'E') integral = false;
      ++*p;
    }
    if (*p == start || *p - start > 63) return false;
    char num[64];
    std::memcpy(num, s.data() + start, *p - start);
    num[*p - start] = 0;
    errno = 0;
    if (integral) {
      long long v = std::strtoll(num, nullptr, 10);
      *out = errno == 0 ? Value::Int(v) : Value::Double(std::strtod(num, nullptr));
    } else {
      *out = Value::Double(std::strtod(num, nullptr));
    }
  }
  SkipSpace(s, p);
  if (*p < s.size() && s[*p] == ',') ++*p;
  return true;
}

}  // namespace json_array_internal

size_t ArrayLength(std::string_view json) {
  size_t pos = 1, n = 0;
  Value e;
  bool skip = false;
  while (json_array_internal::NextElement(json, &pos, &e, &skip)) ++n;
  return n;
}

}  // namespace vigil::cep

// A hand-written syslog parser: one pass over the line, no regex, no allocation per event
// beyond the event's own copy of the line (fields point into it).
#include "vigil/ingest/syslog_decoder.h"

#include <array>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace vigil::ingest {

namespace {

using cep::FieldId;
using cep::Value;

constexpr std::array<const char*, 24> kFacilities = {
    "kern",   "user",   "mail",   "daemon", "auth",   "syslog", "lpr",    "news",
    "uucp",   "cron",   "authpriv", "ftp",  "ntp",    "security", "console", "solaris-cron",
    "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"};
constexpr std::array<const char*, 8> kSeverities = {"emerg", "alert", "crit", "err",
                                                    "warning", "notice", "info", "debug"};
constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `n` digits at s[p..].
bool Digits(std::string_view s, size_t p, size_t n, int* out) {
  if (p + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!IsDigit(s[p + i])) return false;
    v = v * 10 + (s[p + i] - '0');
  }
  *out = v;
  return true;
}

bool AllDigits(std::string_view s) {
  if (s.empty() || s.size() > 18) return false;
  for (char c : s) {
    if (!IsDigit(c)) return false;
  }
  return true;
}

int64_t ToInt(std::string_view s) {
  int64_t v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

// The token at s[p..] up to the next space (or the end); p moves past it.
std::string_view Token(std::string_view s, size_t* p) {
  size_t start = *p;
  while (*p < s.size() && s[*p] != ' ') ++*p;
  return s.substr(start, *p - start);
}

void SkipSpaces(std::string_view s, size_t* p) {
  while (*p < s.size() && s[*p] == ' ') ++*p;
}

class SyslogDecoder final : public Decoder {
 public:
  SyslogDecoder(cep::FieldRegistry* fields, const SyslogOptions& options, int offset_seconds)
      : year_(options.year),
        offset_(static_cast<cep::Duration>(offset_seconds) * cep::kSecond),
        clock_(options.clock ? options.clock : cep::SystemClock::Default()) {
    timestamp_ = fields->Find("@timestamp");
    host_ = fields->Find("host");
    app_ = fields->Find("app");
    pid_ = fields->Find("pid");
    msgid_ = fields->Find("msgid");
    message_ = fields->Find("message");
    facility_ = fields->Find("facility");
    severity_ = fields->Find("severity");
    facility_name_ = fields->Find("facility_name");
    severity_name_ = fields->Find("severity_name");
    for (size_t i = 0; i < fields->size(); ++i) {
      const std::string& path = fields->path(static_cast<FieldId>(i));
      if (path.rfind("sd.", 0) != 0) continue;
      size_t dot = path.rfind('.');
      if (dot <= 3) continue;
      sd_fields_.push_back({path.substr(3, dot - 3), path.substr(dot + 1), static_cast<FieldId>(i)});
    }
    field_count_ = fields->size();
  }

  DecodeResult Decode(std::string_view record, cep::Event* event, std::string* error) override {
    while (!record.empty() && (record.back() == '\n' || record.back() == '\r')) record.remove_suffix(1);
    if (record.empty()) return DecodeResult::kSkip;
    std::string* raw = event->mutable_raw();
    raw->assign(record);
    event->raw_is_json = false;
    event->ResetFields(field_count_);
    const std::string_view s(*raw);  // fields point into the event's own copy

    size_t p = 0;
    int pri = -1;
    if (s[0] == '<') {
      size_t close = s.find('>');
      if (close == std::string_view::npos || close < 2 || close > 4 ||
          !AllDigits(s.substr(1, close - 1)) || ToInt(s.substr(1, close - 1)) > 191) {
        *error = "not syslog: bad PRI (expected <0> to <191>)";
        return DecodeResult::kMalformed;
      }
      pri = static_cast<int>(ToInt(s.substr(1, close - 1)));
      p = close + 1;
    }
    DecodeResult r;
    if (pri >= 0 && p + 1 < s.size() && IsDigit(s[p]) && s[p + 1] == ' ') {
      r = Decode5424(s, p + 2, event, error);
    } else if (pri >= 0 && p + 2 < s.size() && IsDigit(s[p]) && IsDigit(s[p + 1]) && s[p + 2] == ' ' &&
               !(p + 3 < s.size() && IsDigit(s[p + 3]))) {
      r = Decode5424(s, p + 3, event, error);  // a two-digit VERSION
    } else {
      r = Decode3164(s, p, event, error);
    }
    if (r != DecodeResult::kOk) return r;
    if (pri >= 0) {
      Set(facility_, Value::Int(pri >> 3), event);
      Set(severity_, Value::Int(pri & 7), event);
      Set(facility_name_, Value::String(kFacilities[static_cast<size_t>(pri >> 3)]), event);
      Set(severity_name_, Value::String(kSeverities[static_cast<size_t>(pri & 7)]), event);
    }
    if (timestamp_) {
      std::string ts = cep::FormatRfc3339Millis(event->time);
      event->SetField(*timestamp_, Value::String(event->CopyString(ts)));
    }
    return DecodeResult::kOk;
  }

 private:
  static void Set(const std::optional<FieldId>& id, const Value& v, cep::Event* event) {
    if (id) event->SetField(*id, v);
  }
  static void SetText(const std::optional<FieldId>& id, std::string_view text, cep::Event* event) {
    if (id && !text.empty()) event->SetField(*id, Value::String(text));
  }

  // <PRI>VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP SD [SP MSG]
  DecodeResult Decode5424(std::string_view s, size_t p, cep::Event* event, std::string* error) {
    std::string_view parts[5];  // timestamp, host, app, procid, msgid
    for (auto& part : parts) {
      part = Token(s, &p);
      if (part.empty() || p >= s.size()) {
        *error = "not syslog: RFC 5424 header is incomplete";
        return DecodeResult::kMalformed;
      }
      ++p;  // the single space
    }
    if (parts[0] == "-") {
      *error = "RFC 5424 timestamp is '-' (none)";
      return DecodeResult::kNoTime;
    }
    if (!cep::ParseRfc3339(parts[0], &event->time)) {
      *error = "RFC 5424 timestamp '" + std::string(parts[0]) + "' does not parse";
      return DecodeResult::kNoTime;
    }
    auto nil = [](std::string_view v) { return v == "-" ? std::string_view() : v; };
    SetText(host_, nil(parts[1]), event);
    SetText(app_, nil(parts[2]), event);
    SetPid(nil(parts[3]), event);
    SetText(msgid_, nil(parts[4]), event);
    // STRUCTURED-DATA: "-" or one or more [SD-ID *(SP PARAM="VALUE")].
    if (s[p] == '-') {
      ++p;
    } else if (s[p] == '[') {
      if (!ParseStructuredData(s, &p, event)) {
        *error = "not syslog: malformed RFC 5424 structured data";
        return DecodeResult::kMalformed;
      }
    } else {
      *error = "not syslog: RFC 5424 structured data must be '-' or start with '['";
      return DecodeResult::kMalformed;
    }
    if (p < s.size()) {
      if (s[p] != ' ') {
        *error = "not syslog: expected a space before the RFC 5424 message";
        return DecodeResult::kMalformed;
      }
      std::string_view msg = s.substr(p + 1);
      if (msg.substr(0, 3) == "\xEF\xBB\xBF") msg.remove_prefix(3);  // the UTF-8 BOM
      SetText(message_, msg, event);
    }
    return DecodeResult::kOk;
  }

  bool ParseStructuredData(std::string_view s, size_t* pp, cep::Event* event) {
    size_t p = *pp;
    while (p < s.size() && s[p] == '[') {
      ++p;
      size_t id_start = p;
      while (p < s.size() && s[p] != ' ' && s[p] != ']') ++p;
      if (p >= s.size() || p == id_start) return false;
      std::string_view id = s.substr(id_start, p - id_start);
      while (p < s.size() && s[p] == ' ') {
        ++p;
        size_t name_start = p;
        while (p < s.size() && s[p] != '=') ++p;
        if (p + 1 >= s.size() || s[p + 1] != '"') return false;
        std::string_view name = s.substr(name_start, p - name_start);
        p += 2;
        size_t value_start = p;
        bool escaped = false;
        while (p < s.size() && s[p] != '"') {
          if (s[p] == '\\' && p + 1 < s.size()) {
            escaped = true;
            ++p;
          }
          ++p;
        }
        if (p >= s.size()) return false;
        std::string_view value = s.substr(value_start, p - value_start);
        ++p;  // the closing quote
        for (const SdField& f : sd_fields_) {
          if (f.id != id || f.name != name) continue;
          if (!escaped) {
            event->SetField(f.field, Value::String(value));
          } else {
            std::string un;
            for (size_t i = 0; i < value.size(); ++i) {
              if (value[i] == '\\' && i + 1 < value.size() &&
                  (value[i + 1] == '"' || value[i + 1] == '\\' || value[i + 1] == ']')) {
                ++i;
              }
              un.push_back(value[i]);
            }
            event->SetField(f.field, Value::String(event->CopyString(un)));
          }
        }
      }
      if (p >= s.size() || s[p] != ']') return false;
      ++p;
    }
    *pp = p;
    return true;
  }

  // [<PRI>]TIMESTAMP SP HOSTNAME SP TAG[PID]: MSG, TIMESTAMP as "Mmm dd hh:mm:ss" or RFC 3339.
  DecodeResult Decode3164(std::string_view s, size_t p, cep::Event* event, std::string* error) {
    if (p + 4 < s.size() && IsDigit(s[p]) && IsDigit(s[p + 3]) && s[p + 4] == '-') {
      std::string_view ts = Token(s, &p);
      if (!cep::ParseRfc3339(ts, &event->time)) {
        *error = "timestamp '" + std::string(ts) + "' does not parse as RFC 3339";
        return DecodeResult::kNoTime;
      }
    } else if (!BsdTimestamp(s, &p, &event->time)) {
      *error = "not syslog: expected a timestamp such as 'Dec 10 06:55:46' or RFC 3339";
      return DecodeResult::kMalformed;
    }
    SkipSpaces(s, &p);
    std::string_view host = Token(s, &p);
    if (host.empty()) {
      *error = "not syslog: no hostname after the timestamp";
      return DecodeResult::kMalformed;
    }
    SetText(host_, host, event);
    SkipSpaces(s, &p);
    // TAG: the program name, up to '[', ':' or a space; then [PID], then ':'.
    size_t tag_start = p;
    while (p < s.size() && s[p] != '[' && s[p] != ':' && s[p] != ' ') ++p;
    std::string_view app = s.substr(tag_start, p - tag_start);
    std::string_view pid;
    if (p < s.size() && s[p] == '[') {
      size_t close = s.find(']', p);
      if (close != std::string_view::npos) {
        pid = s.substr(p + 1, close - p - 1);
        p = close + 1;
      }
    }
    if (p < s.size() && s[p] == ':') ++p;
    if (p < s.size() && s[p] == ' ') ++p;
    SetText(app_, app, event);
    SetPid(pid, event);
    SetText(message_, s.substr(p), event);
    return DecodeResult::kOk;
  }

  void SetPid(std::string_view pid, cep::Event* event) {
    if (!pid_ || pid.empty()) return;
    event->SetField(*pid_, AllDigits(pid) ? Value::Int(ToInt(pid)) : Value::String(pid));
  }

  // "Mmm dd hh:mm:ss" (dd may be " d"), in the configured zone, year by the year rule.
  bool BsdTimestamp(std::string_view s, size_t* pp, cep::Timestamp* out) {
    size_t p = *pp;
    if (p + 15 > s.size()) return false;
    int month = 0;
    std::string_view mon = s.substr(p, 3);
    while (month < 12 && kMonths[static_cast<size_t>(month)] != mon) ++month;
    if (month == 12 || s[p + 3] != ' ') return false;
    int day, hh, mm, ss;
    if (s[p + 4] == ' ') {
      if (!Digits(s, p + 5, 1, &day)) return false;
    } else if (!Digits(s, p + 4, 2, &day)) {
      return false;
    }
    if (s[p + 6] != ' ' || !Digits(s, p + 7, 2, &hh) || s[p + 9] != ':' ||
        !Digits(s, p + 10, 2, &mm) || s[p + 12] != ':' || !Digits(s, p + 13, 2, &ss)) {
      return false;
    }
    if (day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60) return false;
    p += 15;
    // Sub-second fractions, as some daemons write them ("06:55:46.123").
    cep::Duration frac = 0;
    if (p < s.size() && s[p] == '.') {
      cep::Duration unit = cep::kSecond;
      ++p;
      while (p < s.size() && IsDigit(s[p])) {
        if (unit > 1) {
          unit /= 10;
          frac += (s[p] - '0') * unit;
        }
        ++p;
      }
    }
    int year = year_ != 0 ? year_ : YearFor(month + 1, day, hh, mm, ss);
    *out = Civil(year, month + 1, day, hh, mm, ss) + frac;
    *pp = p;
    return true;
  }

  cep::Timestamp Civil(int year, int month, int day, int hh, int mm, int ss) const {
    int64_t days = cep::DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
    return (days * 86400 + hh * 3600 + mm * 60 + ss) * cep::kSecond - offset_;
  }

  int YearFor(int month, int day, int hh, int mm, int ss) const {
    cep::Timestamp now = clock_->Now();
    // The current year in the configured zone.
    int64_t local_days = (now + offset_) / cep::kDay;
    if ((now + offset_) % cep::kDay < 0) --local_days;
    int year = CivilYear(local_days);
    if (Civil(year, month, day, hh, mm, ss) > now + cep::kDay) --year;
    return year;
  }

  // The proleptic Gregorian year of a day number (days since 1970-01-01).
  static int CivilYear(int64_t days) {
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    int64_t doe = days - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t month = mp < 10 ? mp + 3 : mp - 9;
    return static_cast<int>(yoe + era * 400 + (month <= 2 ? 1 : 0));
  }

  struct SdField {
    std::string id, name;
    FieldId field;
  };

  const int year_;
  const cep::Duration offset_;
  const cep::Clock* clock_;
  std::optional<FieldId> timestamp_, host_, app_, pid_, msgid_, message_, facility_, severity_,
      facility_name_, severity_name_;
  std::vector<SdField> sd_fields_;
  size_t field_count_ = 0;
};

class RawDecoder final : public Decoder {
 public:
  RawDecoder(cep::FieldRegistry* fields, const cep::Clock* clock)
      : message_(fields->Find("message")),
        field_count_(fields->size()),
        clock_(clock ? clock : cep::SystemClock::Default()) {}

  DecodeResult Decode(std::string_view record, cep::Event* event, std::string* error) override {
    (void)error;
    while (!record.empty() && (record.back() == '\n' || record.back() == '\r')) record.remove_suffix(1);
    if (record.empty()) return DecodeResult::kSkip;
    std::string* raw = event->mutable_raw();
    raw->assign(record);
    event->raw_is_json = false;
    event->ResetFields(field_count_);
    if (message_) event->SetField(*message_, Value::String(*raw));
    event->time = clock_->Now();
    return DecodeResult::kOk;
  }

 private:
  std::optional<FieldId> message_;
  size_t field_count_;
  const cep::Clock* clock_;
};

}  // namespace

bool ParseUtcOffset(std::string_view text, int* seconds) {
  if (text == "UTC" || text == "Z" || text == "utc" || text == "GMT") {
    *seconds = 0;
    return true;
  }
  if (text.size() < 5 || (text[0] != '+' && text[0] != '-')) return false;
  int hh, mm;
  size_t m = text[3] == ':' ? 4 : 3;
  if (!Digits(text, 1, 2, &hh) || !Digits(text, m, 2, &mm) || text.size() != m + 2) return false;
  if (hh > 14 || mm > 59) return false;
  *seconds = (hh * 3600 + mm * 60) * (text[0] == '-' ? -1 : 1);
  return true;
}

Result<std::unique_ptr<Decoder>> NewSyslogDecoder(cep::FieldRegistry* fields,
                                                  const SyslogOptions& options) {
  int offset = 0;
  if (!ParseUtcOffset(options.timezone, &offset)) {
    return Status::InvalidArgument("timezone '" + options.timezone +
                                   "' is not UTC or a fixed offset such as +02:00");
  }
  if (options.year != 0 && (options.year < 1970 || options.year > 2200)) {
    return Status::InvalidArgument("year " + std::to_string(options.year) + " is out of range");
  }
  return std::unique_ptr<Decoder>(std::make_unique<SyslogDecoder>(fields, options, offset));
}

std::unique_ptr<Decoder> NewRawDecoder(cep::FieldRegistry* fields, const cep::Clock* clock) {
  return std::make_unique<RawDecoder>(fields, clock);
}

}  // namespace vigil::ingest

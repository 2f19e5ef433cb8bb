// Syslog and raw decoding: RFC 5424, RFC 3164 (with and without PRI, year rule, zones),
// the RFC 3339 BSD form, bad lines, and every line of the Loghub samples.
#include "vigil/ingest/syslog_decoder.h"

#include <fstream>
#include <sstream>

#include "decode_support.h"

using vigil::cep::kSecond;
using vigil::ingest::testing::Show;

namespace {

const std::vector<std::string> kFields = {
    "@timestamp", "host", "app", "pid", "msgid", "message", "facility", "severity",
    "facility_name", "severity_name", "sd.exampleSDID@32473.eventID", "sd.origin.ip"};

vigil::cep::Timestamp At(const char* rfc3339) {
  vigil::cep::Timestamp t = 0;
  REQUIRE(vigil::cep::ParseRfc3339(rfc3339, &t));
  return t;
}

class SyslogFixture {
 public:
  explicit SyslogFixture(const char* now = "2024-12-20T12:00:00Z", std::string tz = "UTC", int year = 0)
      : clock_(At(now)) {
    for (const std::string& p : kFields) registry_.Intern(p);
    vigil::ingest::SyslogOptions o;
    o.timezone = std::move(tz);
    o.year = year;
    o.clock = &clock_;
    auto d = vigil::ingest::NewSyslogDecoder(&registry_, o);
    REQUIRE(d.ok());
    decoder_ = std::move(d).value();
  }

  struct Out {
    std::string result, error;
    std::shared_ptr<vigil::cep::Event> event;
  };
  Out Decode(std::string_view line) {
    Out o;
    o.event = std::make_shared<vigil::cep::Event>();
    o.result = vigil::ingest::testing::ResultName(decoder_->Decode(line, o.event.get(), &o.error));
    return o;
  }
  std::string F(const Out& o, std::string_view path) const {
    return Show(o.event->field(*registry_.Find(path)));
  }
  vigil::cep::ManualClock& clock() { return clock_; }

 private:
  vigil::cep::ManualClock clock_;
  vigil::cep::FieldRegistry registry_;
  std::unique_ptr<vigil::ingest::Decoder> decoder_;
};

std::vector<std::string> LoghubLines(const std::string& name) {
  // The Loghub samples, copied byte for byte into examples/loghub/ (see SOURCE.md there).
  std::ifstream in(std::string(VIGIL_SOURCE_DIR) + "/examples/loghub/" + name, std::ios::binary);
  REQUIRE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  std::vector<std::string> lines;
  std::string text = ss.str(), line;
  std::istringstream split(text);
  while (std::getline(split, line)) lines.push_back(line);
  return lines;
}

}  // namespace

TEST_CASE("syslog: RFC 3164 with PRI", "[ingest][syslog]") {
  SyslogFixture fx;
  auto o = fx.Decode("<34>Oct 11 22:14:15 mymachine su[230]: 'su root' failed for lonvick on /dev/pts/8");
  REQUIRE(o.result == "ok");
  CHECK(o.event->time == At("2024-10-11T22:14:15Z"));
  CHECK(fx.F(o, "host") == "string mymachine");
  CHECK(fx.F(o, "app") == "string su");
  CHECK(fx.F(o, "pid") == "int 230");
  CHECK(fx.F(o, "message") == "string 'su root' failed for lonvick on /dev/pts/8");
  CHECK(fx.F(o, "facility") == "int 4");
  CHECK(fx.F(o, "severity") == "int 2");
  CHECK(fx.F(o, "facility_name") == "string auth");
  CHECK(fx.F(o, "severity_name") == "string crit");
  CHECK(fx.F(o, "@timestamp") == "string 2024-10-11T22:14:15.000Z");
  CHECK(o.event->raw_is_json == false);
  CHECK(o.event->raw() == "<34>Oct 11 22:14:15 mymachine su[230]: 'su root' failed for lonvick on /dev/pts/8");
}

TEST_CASE("syslog: BSD lines as files hold them, without PRI", "[ingest][syslog]") {
  SyslogFixture fx;
  auto o = fx.Decode("Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186\r");
  REQUIRE(o.result == "ok");
  CHECK(o.event->time == At("2024-12-10T06:55:46Z"));
  CHECK(fx.F(o, "host") == "string LabSZ");
  CHECK(fx.F(o, "app") == "string sshd");
  CHECK(fx.F(o, "pid") == "int 24200");
  CHECK(fx.F(o, "message") == "string Invalid user webmaster from 173.234.31.186");  // no \r
  CHECK(fx.F(o, "facility") == "null");  // no PRI, no facility

  auto day = fx.Decode("Jul  3 04:08:03 combo syslogd 1.4.1: restart.");
  REQUIRE(day.result == "ok");
  CHECK(day.event->time == At("2024-07-03T04:08:03Z"));
  CHECK(fx.F(day, "app") == "string syslogd");
  CHECK(fx.F(day, "pid") == "null");
  CHECK(fx.F(day, "message") == "string 1.4.1: restart.");

  auto paren = fx.Decode("Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; rhost=218.188.2.4 ");
  REQUIRE(paren.result == "ok");
  CHECK(fx.F(paren, "app") == "string sshd(pam_unix)");
  CHECK(fx.F(paren, "pid") == "int 19939");

  auto nopid = fx.Decode("Jun 14 15:16:01 combo kernel: Linux version 2.6.5-1.358");
  REQUIRE(nopid.result == "ok");
  CHECK(fx.F(nopid, "app") == "string kernel");
  CHECK(fx.F(nopid, "message") == "string Linux version 2.6.5-1.358");

  auto frac = fx.Decode("Dec 10 06:55:46.250 LabSZ sshd[1]: x");
  REQUIRE(frac.result == "ok");
  CHECK(frac.event->time == At("2024-12-10T06:55:46.25Z"));
}

TEST_CASE("syslog: the year rule for timestamps without a year", "[ingest][syslog]") {
  // Read on 2025-01-02: a December line is from the previous year...
  SyslogFixture jan("2025-01-02T08:00:00Z");
  CHECK(jan.Decode("Dec 31 23:59:59 h app: m").event->time == At("2024-12-31T23:59:59Z"));
  CHECK(jan.Decode("Jan  2 07:00:00 h app: m").event->time == At("2025-01-02T07:00:00Z"));
  // ... up to a day in the future is still this year (clock skew between hosts).
  CHECK(jan.Decode("Jan  3 07:59:59 h app: m").event->time == At("2025-01-03T07:59:59Z"));
  CHECK(jan.Decode("Jan  3 08:00:01 h app: m").event->time == At("2024-01-03T08:00:01Z"));
  // A fixed year overrides the rule (deterministic replays of old files).
  SyslogFixture fixed("2025-01-02T08:00:00Z", "UTC", 2019);
  CHECK(fixed.Decode("Dec 31 23:59:59 h app: m").event->time == At("2019-12-31T23:59:59Z"));
}

TEST_CASE("syslog: RFC 3164 timestamps are read in the configured zone", "[ingest][syslog]") {
  SyslogFixture berlin("2024-12-20T12:00:00Z", "+01:00");
  CHECK(berlin.Decode("Dec 10 06:55:46 h app: m").event->time == At("2024-12-10T05:55:46Z"));
  SyslogFixture india("2024-12-20T12:00:00Z", "+0530");
  CHECK(india.Decode("Dec 10 06:55:46 h app: m").event->time == At("2024-12-10T01:25:46Z"));
  // The current year is the zone's: at 2024-12-31T23:30Z it is already 2025 in UTC+1.
  SyslogFixture eve("2024-12-31T23:30:00Z", "+01:00");
  CHECK(eve.Decode("Jan  1 00:10:00 h app: m").event->time == At("2024-12-31T23:10:00Z"));

  vigil::cep::FieldRegistry reg;
  vigil::ingest::SyslogOptions bad;
  bad.timezone = "Mars/Olympus";
  auto d = vigil::ingest::NewSyslogDecoder(&reg, bad);
  REQUIRE_FALSE(d.ok());
  CHECK(d.status().message() == "timezone 'Mars/Olympus' is not UTC or a fixed offset such as +02:00");
}

TEST_CASE("syslog: RFC 3339 timestamps in the BSD layout (rsyslog file format)", "[ingest][syslog]") {
  SyslogFixture fx;
  auto o = fx.Decode("2024-12-10T06:55:46.123456+01:00 gw-17 sshd[42]: Accepted password for pi");
  REQUIRE(o.result == "ok");
  CHECK(o.event->time == At("2024-12-10T05:55:46.123456Z"));
  CHECK(fx.F(o, "host") == "string gw-17");
  CHECK(fx.F(o, "app") == "string sshd");
  CHECK(fx.F(o, "message") == "string Accepted password for pi");
  auto pri = fx.Decode("<86>2024-12-10T06:55:46Z gw-17 sshd: x");
  REQUIRE(pri.result == "ok");
  CHECK(fx.F(pri, "facility_name") == "string authpriv");
  CHECK(fx.F(pri, "severity_name") == "string info");
}

TEST_CASE("syslog: RFC 5424 with structured data", "[ingest][syslog]") {
  SyslogFixture fx;
  auto o = fx.Decode(
      "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
      "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"]"
      "[origin ip=\"192.0.2.1\" x=\"a\\\"b\"] \xEF\xBB\xBF"
      "An application event log entry...");
  REQUIRE(o.result == "ok");
  CHECK(o.event->time == At("2003-10-11T22:14:15.003Z"));
  CHECK(fx.F(o, "host") == "string mymachine.example.com");
  CHECK(fx.F(o, "app") == "string evntslog");
  CHECK(fx.F(o, "pid") == "null");  // NILVALUE
  CHECK(fx.F(o, "msgid") == "string ID47");
  CHECK(fx.F(o, "sd.exampleSDID@32473.eventID") == "string 1011");
  CHECK(fx.F(o, "sd.origin.ip") == "string 192.0.2.1");
  CHECK(fx.F(o, "message") == "string An application event log entry...");  // BOM dropped
  CHECK(fx.F(o, "facility_name") == "string local4");
  CHECK(fx.F(o, "severity_name") == "string notice");

  auto bare = fx.Decode("<34>1 2003-10-11T22:14:15Z host su 77 - -");
  REQUIRE(bare.result == "ok");
  CHECK(fx.F(bare, "pid") == "int 77");
  CHECK(fx.F(bare, "message") == "null");
}

TEST_CASE("syslog: lines that are not syslog are malformed, with the reason", "[ingest][syslog]") {
  SyslogFixture fx;
  struct Case {
    const char* line;
    const char* result;
    const char* error;
  };
  const Case cases[] = {
      {"hello world", "malformed", "not syslog: expected a timestamp such as 'Dec 10 06:55:46' or RFC 3339"},
      {"<999>Oct 11 22:14:15 h a: m", "malformed", "not syslog: bad PRI (expected <0> to <191>)"},
      {"<34", "malformed", "not syslog: bad PRI (expected <0> to <191>)"},
      {"Foo 11 22:14:15 h a: m", "malformed", "not syslog: expected a timestamp such as 'Dec 10 06:55:46' or RFC 3339"},
      {"Oct 32 22:14:15 h a: m", "malformed", "not syslog: expected a timestamp such as 'Dec 10 06:55:46' or RFC 3339"},
      {"Oct 11 22:14:15 ", "malformed", "not syslog: no hostname after the timestamp"},
      {"<34>1 2003-10-11T22:14:15Z host", "malformed", "not syslog: RFC 5424 header is incomplete"},
      {"<34>1 - host app - - - msg", "no-time", "RFC 5424 timestamp is '-' (none)"},
      {"<34>1 2003-13-11T22:14:15Z h a - - - m", "no-time", "RFC 5424 timestamp '2003-13-11T22:14:15Z' does not parse"},
      {"<34>1 2003-10-11T22:14:15Z h a - - [id x=\"1\" m", "malformed", "not syslog: malformed RFC 5424 structured data"},
      {"<34>1 2003-10-11T22:14:15Z h a - - x m", "malformed", "not syslog: RFC 5424 structured data must be '-' or start with '['"},
      {"2024-13-10T06:55:46Z h a: m", "no-time", "timestamp '2024-13-10T06:55:46Z' does not parse as RFC 3339"},
  };
  for (const Case& c : cases) {
    INFO(c.line);
    auto o = fx.Decode(c.line);
    CHECK(o.result == c.result);
    CHECK(o.error == c.error);
  }
  CHECK(fx.Decode("").result == "skip");
  CHECK(fx.Decode("\r\n").result == "skip");
}

TEST_CASE("syslog: every line of the Loghub samples decodes", "[ingest][syslog][loghub]") {
  SyslogFixture fx("2025-06-01T00:00:00Z");
  for (const char* file : {"OpenSSH_2k.log", "Linux_2k.log"}) {
    INFO(file);
    auto lines = LoghubLines(file);
    CHECK(lines.size() >= 1999);
    size_t with_pid = 0;
    for (const std::string& line : lines) {
      auto o = fx.Decode(line);
      INFO(line);
      REQUIRE(o.result == "ok");
      CHECK(fx.F(o, "host") != "null");
      CHECK(fx.F(o, "app") != "null");
      if (fx.F(o, "pid") != "null") ++with_pid;
      // The message never keeps the CR of the file's CRLF line ends.
      std::string msg = fx.F(o, "message");
      CHECK((msg.empty() || msg.back() != '\r'));
    }
    CHECK(with_pid > lines.size() / 2);
  }
  auto first = fx.Decode(LoghubLines("OpenSSH_2k.log").front());
  CHECK(first.event->time == At("2024-12-10T06:55:46Z"));
  CHECK(fx.F(first, "message") ==
        "string reverse mapping checking getaddrinfo for ns.marryaldkfaczcz.com [173.234.31.186] "
        "failed - POSSIBLE BREAK-IN ATTEMPT!");
}

TEST_CASE("raw: the line is the message, the time is the clock's", "[ingest][raw]") {
  vigil::cep::FieldRegistry reg;
  auto message = reg.Intern("message");
  vigil::cep::ManualClock clock(At("2026-01-01T00:00:00Z"));
  auto d = vigil::ingest::NewRawDecoder(&reg, &clock);
  vigil::cep::Event e;
  std::string err;
  REQUIRE(d->Decode("anything at all\r\n", &e, &err) == vigil::ingest::DecodeResult::kOk);
  CHECK(Show(e.field(message)) == "string anything at all");
  CHECK(e.time == At("2026-01-01T00:00:00Z"));
  CHECK(e.raw() == "anything at all");
  vigil::cep::Event empty;
  CHECK(d->Decode("\n", &empty, &err) == vigil::ingest::DecodeResult::kSkip);
}

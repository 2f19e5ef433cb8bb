// The syslog sink against a receiver that parses RFC 5424 and CEF, over UDP, TCP with
// octet counting, and TLS.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <simdjson.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "support/net.h"
#include "support/sinks.h"
#include "support/temp_dir.h"
#include "vigil/cep/state_store.h"

namespace vigil::alerting::testing {
namespace {

std::string SyslogConfig(const std::string& address, const std::string& extra = "") {
  return R"({"type":"syslog","address":")" + address + "\"" + extra + "}";
}

void CheckFrame(const std::string& frame, const Alert& a, int pri) {
  INFO(frame);
  auto m = ParseSyslog5424(frame);
  REQUIRE(m);
  CHECK(m->pri == pri);
  CHECK(m->timestamp == cep::FormatRfc3339Millis(a.detected_at));
  CHECK(m->hostname == "gw-17");
  CHECK(m->app_name == "vigil");
  CHECK(m->msgid == a.rule_id);
  CHECK(m->structured_data == "-");
  auto cef = ParseCef(m->msg);
  REQUIRE(cef);
  CHECK(cef->signature_id == a.rule_id);
  CHECK(cef->name == "SSH brute force");
  CHECK(cef->Ext("externalId") == a.id);
  CHECK(cef->Ext("msg") == a.summary);
  CHECK(cef->Ext("rt") == std::to_string(a.time / cep::kMillisecond));
}

TEST_CASE("syslog over UDP: one RFC 5424 datagram per alert, CEF inside, PRI from facility and severity") {
  SyslogReceiver rx(SyslogReceiver::Mode::kUdp);
  auto sink = MakeSink(SyslogConfig("udp://127.0.0.1:" + std::to_string(rx.port()), R"(,"facility":"auth")"));
  Alert high = MakeTestAlert(1, "high"), low = MakeTestAlert(2, "low");
  REQUIRE(sink->Deliver(*ViewOf(high)).ok());
  REQUIRE(sink->Deliver(*ViewOf(low)).ok());
  REQUIRE(Eventually([&] { return rx.messages().size() == 2; }));
  CheckFrame(rx.messages()[0], high, 4 * 8 + 3);  // auth.err
  CheckFrame(rx.messages()[1], low, 4 * 8 + 5);   // auth.notice
}

TEST_CASE("syslog over TCP: octet-counted frames on one connection, reconnecting after the receiver drops it") {
  SyslogReceiver rx(SyslogReceiver::Mode::kTcp);
  auto sink = MakeSink(SyslogConfig("tcp://127.0.0.1:" + std::to_string(rx.port())));
  for (int i = 1; i <= 5; ++i) REQUIRE(sink->Deliver(*ViewOf(MakeTestAlert(i))).ok());
  REQUIRE(Eventually([&] { return rx.messages().size() == 5; }));
  for (int i = 1; i <= 5; ++i) CheckFrame(rx.messages()[i - 1], MakeTestAlert(i), 16 * 8 + 3);  // local0.err
  rx.DropConnections();
  // The closed connection is noticed before the next write and a new one is opened.
  REQUIRE(Eventually([&] {
    return sink->Deliver(*ViewOf(MakeTestAlert(6))).ok() && rx.messages().size() >= 6;
  }, std::chrono::seconds(20)));
  CheckFrame(rx.messages()[5], MakeTestAlert(6), 16 * 8 + 3);
  CHECK(rx.errors().empty());
}

TEST_CASE("syslog over TLS with format json, and an untrusted server is refused") {
  vigil::testing::TempDir dir;
  TestCerts certs = MakeCerts(dir.path());
  SyslogReceiver rx(SyslogReceiver::Mode::kTls, TlsServerOptions{certs.server_cert, certs.server_key, ""});
  std::string addr = "tcp://127.0.0.1:" + std::to_string(rx.port());
  auto sink = MakeSink(SyslogConfig(addr, R"(,"format":"json","tls":{"ca_file":")" + certs.ca + R"("})"));
  Alert a = MakeTestAlert(3, "critical");
  REQUIRE(sink->Deliver(*ViewOf(a)).ok());
  REQUIRE(Eventually([&] { return rx.messages().size() == 1; }));
  auto m = ParseSyslog5424(rx.messages()[0]);
  REQUIRE(m);
  CHECK(m->pri == 16 * 8 + 2);  // local0.crit
  CHECK(m->msg == a.json);
  auto untrusted = MakeSink(SyslogConfig(addr, R"(,"tls":{"ca_file":")" + certs.other_ca + R"("})"));
  DeliveryResult r = untrusted->Deliver(*ViewOf(a));
  CHECK(r.outcome == DeliveryResult::Outcome::kRetry);
  CHECK(r.error.find("tls handshake") != std::string::npos);
  CHECK(rx.messages().size() == 1);
}

TEST_CASE("syslog over mutual TLS presents the client certificate") {
  vigil::testing::TempDir dir;
  TestCerts certs = MakeCerts(dir.path());
  SyslogReceiver rx(SyslogReceiver::Mode::kTls, TlsServerOptions{certs.server_cert, certs.server_key, certs.ca});
  std::string addr = "tcp://127.0.0.1:" + std::to_string(rx.port());
  auto sink = MakeSink(SyslogConfig(addr, R"(,"tls":{"ca_file":")" + certs.ca + R"(","cert_file":")" +
                                              certs.client_cert + R"(","key_file":")" + certs.client_key + R"("})"));
  REQUIRE(sink->Deliver(*ViewOf(MakeTestAlert(1))).ok());
  REQUIRE(Eventually([&] { return rx.messages().size() == 1; }));
  CheckFrame(rx.messages()[0], MakeTestAlert(1), 16 * 8 + 3);
}

TEST_CASE("syslog: a CEF template is escaped by position") {
  SyslogReceiver rx(SyslogReceiver::Mode::kUdp);
  auto sink = MakeSink(SyslogConfig("udp://127.0.0.1:" + std::to_string(rx.port()),
                                    R"(,"template":"CEF:0|Acme|IDS|2|{{ rule.id }}|{{ rule.title }}|9|msg={{ summary }}")"));
  Alert a = MakeTestAlert(5, "high", "r1", "pipes | and = signs \\ here");
  REQUIRE(sink->Deliver(*ViewOf(a)).ok());
  REQUIRE(Eventually([&] { return rx.messages().size() == 1; }));
  auto m = ParseSyslog5424(rx.messages()[0]);
  REQUIRE(m);
  auto cef = ParseCef(m->msg);
  REQUIRE(cef);
  CHECK(cef->vendor == "Acme");
  CHECK(cef->Ext("msg") == "pipes | and = signs \\ here");
}

TEST_CASE("syslog outage: a TCP receiver that is down gets the alerts in order once it listens") {
  auto store = cep::NewMemoryStore();
  int port = FreePort();
  std::vector<OutboxSink> sinks;
  sinks.push_back({"siem", MakeSink(SyslogConfig("tcp://127.0.0.1:" + std::to_string(port)))});
  Outbox outbox(store.get(), std::move(sinks), QuickRetries());
  REQUIRE(outbox.Recover().ok());
  outbox.Start();
  for (int i = 1; i <= 10; ++i) outbox.Append(MakeTestAlert(i), 1);
  REQUIRE(Eventually([&] { return outbox.Stats().sinks[0].failures >= 2; }));
  CHECK(outbox.Stats().sinks[0].last_error.find("connect to 127.0.0.1") != std::string::npos);
  // The receiver comes up on that port: a plain listener that reads octet-counted frames.
  std::vector<std::string> frames;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(fd, 4) == 0);
  pollfd p{fd, POLLIN, 0};
  REQUIRE(::poll(&p, 1, 30000) == 1);  // the sink reconnects within its backoff
  int conn = ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
  REQUIRE(conn >= 0);
  timeval tv{20, 0};
  setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string buf;
  char chunk[4096];
  while (frames.size() < 10) {
    size_t sp = buf.find(' ');
    if (sp != std::string::npos) {
      size_t n = std::stoul(buf.substr(0, sp));
      if (buf.size() >= sp + 1 + n) {
        frames.push_back(buf.substr(sp + 1, n));
        buf.erase(0, sp + 1 + n);
        continue;
      }
    }
    ssize_t r = ::recv(conn, chunk, sizeof chunk, 0);
    REQUIRE(r > 0);
    buf.append(chunk, static_cast<size_t>(r));
  }
  for (int i = 1; i <= 10; ++i) CheckFrame(frames[i - 1], MakeTestAlert(i), 16 * 8 + 3);
  REQUIRE(Eventually([&] { return outbox.Stats().held == 0; }));
  outbox.Stop();
  ::close(conn);
  ::close(fd);
}

}  // namespace
}  // namespace vigil::alerting::testing

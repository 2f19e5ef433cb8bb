// The HTTP sinks (webhook, splunk_hec, pagerduty, slack) against a real HTTP/1.1 server
// on loopback: headers, envelopes, signatures, connection reuse, TLS and mTLS, outages.
#include <simdjson.h>

#include <catch2/catch.hpp>
#include <set>

#include "crypto.h"
#include "support/net.h"
#include "support/sinks.h"
#include "support/temp_dir.h"
#include "vigil/cep/state_store.h"

namespace vigil::alerting::testing {
namespace {

Reply Ok(const RecordedRequest&) { return {200, {}, "ok"}; }

simdjson::dom::element Parse(simdjson::dom::parser& p, const std::string& body) {
  simdjson::dom::element e;
  INFO(body);
  REQUIRE_FALSE(p.parse(body).get(e));
  return e;
}

TEST_CASE("webhook: POSTs the alert with Idempotency-Key, custom headers and a verifiable HMAC signature") {
  TestHttpServer server(Ok);
  cep::ManualClock clock(kAlertTime + 5 * cep::kSecond);
  SinkContext ctx = TestContext();
  ctx.clock = &clock;
  MapSecrets secrets({{"VIGIL_HMAC", "s3cret"}});
  auto sink = MakeSink(R"({"type":"webhook","url":")" + server.url() +
                           R"(/hooks/vigil","hmac_secret_env":"VIGIL_HMAC","headers":{"X-Tenant":"plant-7"}})",
                       secrets, ctx);
  Alert a = MakeTestAlert(1);
  DeliveryResult r = sink->Deliver(*ViewOf(a));
  REQUIRE(r.ok());
  auto reqs = server.requests();
  REQUIRE(reqs.size() == 1);
  const RecordedRequest& q = reqs[0];
  CHECK(q.method == "POST");
  CHECK(q.target == "/hooks/vigil");
  CHECK(q.body == a.json);
  CHECK(q.Header("content-type") == "application/json");
  CHECK(q.Header("idempotency-key") == a.id);
  CHECK(q.Header("x-tenant") == "plant-7");
  CHECK(q.Header("x-vigil-timestamp") == std::to_string(kAlertTime / cep::kSecond + 5));
  // The receiver's check, computed here independently with OpenSSL.
  CHECK(q.Header("x-vigil-signature") == "sha256=" + Hex(HmacSha256("s3cret", q.body)));
}

TEST_CASE("webhook: without a secret there is no signature, and formats change the body") {
  TestHttpServer server(Ok);
  auto sink = MakeSink(R"({"type":"webhook","url":")" + server.url() + R"(","format":"ocsf"})");
  REQUIRE(sink->Deliver(*ViewOf(MakeTestAlert(2))).ok());
  auto q = server.requests().at(0);
  CHECK(q.Header("x-vigil-signature").empty());
  CHECK(q.Header("x-vigil-timestamp").empty());
  simdjson::dom::parser p;
  CHECK(int64_t(Parse(p, q.body)["class_uid"]) == 2004);
}

TEST_CASE("webhook: one connection carries every request (connection reuse)") {
  TestHttpServer server(Ok);
  auto sink = MakeSink(R"({"type":"webhook","url":")" + server.url() + R"("})");
  for (int i = 1; i <= 20; ++i) REQUIRE(sink->Deliver(*ViewOf(MakeTestAlert(i))).ok());
  CHECK(server.request_count() == 20);
  CHECK(server.connections() == 1);
}

TEST_CASE("webhook: HTTP answers map to delivered, retry (with Retry-After) and reject") {
  int status = 503;
  std::vector<std::pair<std::string, std::string>> headers;
  TestHttpServer server([&](const RecordedRequest&) { return Reply{status, headers, "busy"}; });
  auto sink = MakeSink(R"({"type":"webhook","url":")" + server.url() + R"("})");
  auto view = ViewOf(MakeTestAlert(1));
  DeliveryResult r = sink->Deliver(*view);
  CHECK(r.outcome == DeliveryResult::Outcome::kRetry);
  CHECK(r.error == "HTTP 503: busy");
  status = 429;
  headers = {{"Retry-After", "7"}};
  r = sink->Deliver(*view);
  CHECK(r.outcome == DeliveryResult::Outcome::kRetry);
  CHECK(r.retry_after == 7 * cep::kSecond);
  headers.clear();
  status = 401;
  CHECK(sink->Deliver(*view).outcome == DeliveryResult::Outcome::kRetry);
  status = 400;
  CHECK(sink->Deliver(*view).outcome == DeliveryResult::Outcome::kReject);
  status = 413;
  CHECK(sink->Deliver(*view).outcome == DeliveryResult::Outcome::kReject);
  status = 204;
  CHECK(sink->Deliver(*view).ok());
}

TEST_CASE("webhook: a refused connection and a timeout are retried") {
  int port = FreePort();
  auto sink = MakeSink(R"({"type":"webhook","url":"http://127.0.0.1:)" + std::to_string(port) + R"(/"})");
  DeliveryResult r = sink->Deliver(*ViewOf(MakeTestAlert(1)));
  CHECK(r.outcome == DeliveryResult::Outcome::kRetry);
  CHECK(r.error.find("127.0.0.1") != std::string::npos);
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  TestHttpServer slow([&](const RecordedRequest&) {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait_for(lock, std::chrono::seconds(10), [&] { return release; });
    return Reply{200, {}, ""};
  });
  auto timed = MakeSink(R"({"type":"webhook","url":")" + slow.url() + R"(","timeout":"200ms"})");
  r = timed->Deliver(*ViewOf(MakeTestAlert(1)));
  CHECK(r.outcome == DeliveryResult::Outcome::kRetry);
  CHECK(r.error.find("timed out") != std::string::npos);
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
}

TEST_CASE("webhook over TLS: verified against the configured CA, refused otherwise, mTLS with a client certificate") {
  vigil::testing::TempDir dir;
  TestCerts certs = MakeCerts(dir.path());
  TestHttpServer server(Ok, TlsServerOptions{certs.server_cert, certs.server_key, ""});
  auto ok = MakeSink(R"({"type":"webhook","url":")" + server.url() + R"(","tls":{"ca_file":")" + certs.ca + R"("}})");
  REQUIRE(ok->Deliver(*ViewOf(MakeTestAlert(1))).ok());
  // Verification is on by default: a CA that did not sign the server's certificate fails.
  auto wrong = MakeSink(R"({"type":"webhook","url":")" + server.url() + R"(","tls":{"ca_file":")" + certs.other_ca + R"("}})");
  DeliveryResult r = wrong->Deliver(*ViewOf(MakeTestAlert(2)));
  CHECK(r.outcome == DeliveryResult::Outcome::kRetry);
  auto unverified = MakeSink(R"({"type":"webhook","url":")" + server.url() + R"(","tls":{"verify":false}})");
  CHECK(unverified->Deliver(*ViewOf(MakeTestAlert(3))).ok());
  CHECK(server.request_count() == 2);

  TestHttpServer mtls(Ok, TlsServerOptions{certs.server_cert, certs.server_key, certs.ca});
  auto anonymous = MakeSink(R"({"type":"webhook","url":")" + mtls.url() + R"(","tls":{"ca_file":")" + certs.ca + R"("}})");
  CHECK(anonymous->Deliver(*ViewOf(MakeTestAlert(4))).outcome == DeliveryResult::Outcome::kRetry);
  auto client = MakeSink(R"({"type":"webhook","url":")" + mtls.url() + R"(","tls":{"ca_file":")" + certs.ca +
                         R"(","cert_file":")" + certs.client_cert + R"(","key_file":")" + certs.client_key + R"("}})");
  REQUIRE(client->Deliver(*ViewOf(MakeTestAlert(5))).ok());
  CHECK(mtls.request_count() == 1);
  CHECK(mtls.requests()[0].Header("idempotency-key") == TestAlertId(5));
}

TEST_CASE("webhook outage: alerts raised while the receiver is down all arrive once it is back, once each, in order") {
  int port = FreePort();
  auto store = cep::NewMemoryStore();
  std::vector<OutboxSink> sinks;
  sinks.push_back({"soc", MakeSink(R"({"type":"webhook","url":"http://127.0.0.1:)" + std::to_string(port) + R"(/in"})")});
  Outbox outbox(store.get(), std::move(sinks), QuickRetries());
  REQUIRE(outbox.Recover().ok());
  outbox.Start();
  for (int i = 1; i <= 40; ++i) REQUIRE(outbox.Append(MakeTestAlert(i), 1) == AppendResult::kAppended);
  REQUIRE(Eventually([&] { return outbox.Stats().sinks[0].failures >= 3; }));
  CHECK(outbox.Stats().sinks[0].delivered == 0);
  TestHttpServer server(Ok, std::nullopt, port);  // the receiver comes back
  REQUIRE(Eventually([&] { return server.request_count() == 40; }));
  std::vector<std::string> got;
  for (const auto& q : server.requests()) got.push_back(q.Header("idempotency-key"));
  std::vector<std::string> want;
  for (int i = 1; i <= 40; ++i) want.push_back(TestAlertId(i));
  CHECK(got == want);
  REQUIRE(Eventually([&] { return outbox.Stats().held == 0; }));
  CHECK(server.request_count() == 40);
}

TEST_CASE("webhook outage: a receiver answering 503 for a while gets every alert in order once it recovers") {
  std::atomic<int> failures_left{25};
  std::mutex mu;
  std::vector<std::string> accepted;
  TestHttpServer server([&](const RecordedRequest& q) {
    if (failures_left.fetch_sub(1) > 0) return Reply{503, {}, "down"};
    std::lock_guard<std::mutex> lock(mu);
    accepted.push_back(q.Header("idempotency-key"));
    return Reply{200, {}, ""};
  });
  auto store = cep::NewMemoryStore();
  std::vector<OutboxSink> sinks;
  sinks.push_back({"soc", MakeSink(R"({"type":"webhook","url":")" + server.url() + R"("})")});
  Outbox outbox(store.get(), std::move(sinks), QuickRetries());
  REQUIRE(outbox.Recover().ok());
  outbox.Start();
  for (int i = 1; i <= 30; ++i) outbox.Append(MakeTestAlert(i), 1);
  REQUIRE(Eventually([&] { return outbox.Stats().held == 0; }));
  std::vector<std::string> want;
  for (int i = 1; i <= 30; ++i) want.push_back(TestAlertId(i));
  std::lock_guard<std::mutex> lock(mu);
  CHECK(accepted == want);
}

TEST_CASE("splunk_hec: the HEC envelope on /services/collector/event with the token") {
  TestHttpServer server([](const RecordedRequest&) { return Reply{200, {}, R"({"text":"Success","code":0})"}; });
  MapSecrets secrets({{"SPLUNK_TOKEN", "0f3c-hec"}});
  auto sink = MakeSink(R"({"type":"splunk_hec","url":")" + server.url() + R"(/","token_env":"SPLUNK_TOKEN","index":"security"})", secrets);
  Alert a = MakeTestAlert(3);
  REQUIRE(sink->Deliver(*ViewOf(a)).ok());
  auto q = server.requests().at(0);
  CHECK(q.target == "/services/collector/event");
  CHECK(q.Header("authorization") == "Splunk 0f3c-hec");
  simdjson::dom::parser p;
  auto e = Parse(p, q.body);
  CHECK(q.body.rfind("{\"time\":1795256105.000,", 0) == 0);
  CHECK(std::string_view(e["host"]) == "gw-17");
  CHECK(std::string_view(e["sourcetype"]) == "vigil:alert");
  CHECK(std::string_view(e["index"]) == "security");
  CHECK(simdjson::minify(e["event"]) == a.json);
  // A 2xx whose HEC code is not 0 is not a delivery.
  TestHttpServer odd([](const RecordedRequest&) { return Reply{200, {}, R"({"text":"Invalid data format","code":6})"}; });
  auto sink2 = MakeSink(R"({"type":"splunk_hec","url":")" + odd.url() + R"(","token_env":"SPLUNK_TOKEN"})", secrets);
  CHECK(sink2->Deliver(*ViewOf(a)).outcome == DeliveryResult::Outcome::kRetry);
}

TEST_CASE("pagerduty: an Events API v2 trigger with dedup_key per rule and key and mapped severity") {
  TestHttpServer server([](const RecordedRequest&) {
    return Reply{202, {}, R"({"status":"success","message":"Event processed"})"};
  });
  MapSecrets secrets({{"PD_KEY", "R0UTINGKEY"}});
  auto sink = MakeSink(R"({"type":"pagerduty","url":")" + server.url() + R"(","routing_key_env":"PD_KEY"})", secrets);
  for (const char* sev : {"critical", "high", "medium", "low"}) {
    REQUIRE(sink->Deliver(*ViewOf(MakeTestAlert(9, sev))).ok());
  }
  auto reqs = server.requests();
  REQUIRE(reqs.size() == 4);
  CHECK(reqs[0].target == "/v2/enqueue");
  simdjson::dom::parser p;
  auto e = Parse(p, reqs[0].body);
  CHECK(std::string_view(e["routing_key"]) == "R0UTINGKEY");
  CHECK(std::string_view(e["event_action"]) == "trigger");
  CHECK(std::string_view(e["dedup_key"]) == R"(ssh-bruteforce/{"source.ip":"10.0.0.9"})");
  CHECK(std::string_view(e["payload"]["summary"]) == "alert 9 from 10.0.0.9");
  CHECK(std::string_view(e["payload"]["source"]) == "gw-17");
  CHECK(std::string_view(e["payload"]["timestamp"]) == "2026-11-21T10:15:11.000Z");
  CHECK(std::string_view(e["payload"]["custom_details"]["id"]) == TestAlertId(9));
  std::vector<std::string> severities;
  for (const auto& q : reqs) {
    simdjson::dom::parser p2;
    severities.emplace_back(std::string_view(Parse(p2, q.body)["payload"]["severity"]));
  }
  CHECK(severities == std::vector<std::string>{"critical", "error", "warning", "info"});
}

TEST_CASE("slack: blocks with the title, summary and fields, mrkdwn-escaped") {
  TestHttpServer server([](const RecordedRequest&) { return Reply{200, {}, "ok"}; });
  MapSecrets secrets({{"SLACK_WEBHOOK", server.url() + "/services/T000/B000/XXXX"}});
  auto sink = MakeSink(R"({"type":"slack","url_env":"SLACK_WEBHOOK"})", secrets);
  Alert a = MakeTestAlert(4, "high", "ssh-bruteforce", "5 failures <script> & more");
  REQUIRE(sink->Deliver(*ViewOf(a)).ok());
  auto q = server.requests().at(0);
  CHECK(q.target == "/services/T000/B000/XXXX");
  simdjson::dom::parser p;
  auto e = Parse(p, q.body);
  CHECK(std::string_view(e["text"]) == "5 failures &lt;script&gt; &amp; more");
  simdjson::dom::array blocks = e["blocks"];
  REQUIRE(blocks.size() == 4);
  CHECK(std::string_view(blocks.at(0)["type"]) == "header");
  CHECK(std::string_view(blocks.at(0)["text"]["text"]) == "SSH brute force");
  CHECK(std::string_view(blocks.at(2)["fields"].at(0)["text"]) == "*Severity*\nhigh");
  CHECK(std::string_view(blocks.at(2)["fields"].at(2)["text"]) == "*Key*\nsource.ip: 10.0.0.4");
  CHECK(std::string_view(blocks.at(3)["elements"].at(0)["text"]) == "alert " + TestAlertId(4) + " from gw-17");
}

}  // namespace
}  // namespace vigil::alerting::testing

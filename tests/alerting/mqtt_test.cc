// The mqtt sink against a real mosquitto broker started on a free loopback port.
#include <mqtt/async_client.h>

#include <catch2/catch.hpp>

#include "support/net.h"
#include "support/sinks.h"
#include "support/temp_dir.h"
#include "vigil/cep/state_store.h"

namespace vigil::alerting::testing {
namespace {

// A QoS 1 subscriber to site/alerts/#.
class Subscriber {
 public:
  explicit Subscriber(const std::string& url) : client_(url, "vigil-test-sub", nullptr) {
    client_.start_consuming();
    auto opts = mqtt::connect_options_builder().clean_session(true).finalize();
    REQUIRE(client_.connect(opts)->wait_for(std::chrono::seconds(20)));
    REQUIRE(client_.subscribe("site/alerts/#", 1)->wait_for(std::chrono::seconds(20)));
  }
  ~Subscriber() {
    try {
      client_.disconnect()->wait_for(std::chrono::seconds(5));
    } catch (const mqtt::exception&) {
    }
  }
  // The next message within `wait` (20 s by default), or null.
  mqtt::const_message_ptr Next(std::chrono::milliseconds wait = std::chrono::seconds(20)) {
    mqtt::const_message_ptr m;
    client_.try_consume_message_for(&m, wait);
    return m;
  }

 private:
  mqtt::async_client client_;
};

TEST_CASE("mqtt: alerts published with QoS 1 on the templated topic") {
  vigil::testing::TempDir dir;
  Mosquitto broker(dir.path());
  REQUIRE(broker.ready());
  Subscriber sub(broker.url());
  auto sink = MakeSink(R"({"type":"mqtt","url":")" + broker.url() +
                       R"(","topic":"site/alerts/{{ rule.id }}/{{ key.source.ip }}"})");
  Alert a = MakeTestAlert(1), b = MakeTestAlert(2, "low", "port/scan");
  REQUIRE(sink->Deliver(*ViewOf(a)).ok());
  REQUIRE(sink->Deliver(*ViewOf(b)).ok());
  auto m1 = sub.Next();
  REQUIRE(m1);
  CHECK(m1->get_topic() == "site/alerts/ssh-bruteforce/10.0.0.1");
  CHECK(m1->to_string() == a.json);
  CHECK(m1->get_qos() == 1);
  auto m2 = sub.Next();
  REQUIRE(m2);
  CHECK(m2->get_topic() == "site/alerts/port_scan/10.0.0.2");
}

TEST_CASE("mqtt outage: alerts raised while the broker is down are published once it is back, in order") {
  vigil::testing::TempDir dir;
  Mosquitto broker(dir.path());
  REQUIRE(broker.ready());
  auto store = cep::NewMemoryStore();
  cep::ManualClock clock(kAlertTime);
  OutboxOptions o = QuickRetries();
  o.clock = &clock;  // retries happen when the test moves the clock
  std::vector<OutboxSink> sinks;
  sinks.push_back({"actuator", MakeSink(R"({"type":"mqtt","url":")" + broker.url() +
                                        R"(","topic":"site/alerts/x","timeout":"2s","format":"ocsf"})")});
  Outbox outbox(store.get(), std::move(sinks), o);
  REQUIRE(outbox.Recover().ok());
  outbox.Start();
  broker.Stop();
  for (int i = 1; i <= 5; ++i) outbox.Append(MakeTestAlert(i), 1);
  REQUIRE(Eventually([&] { return outbox.Stats().sinks[0].failures >= 1; }));
  broker.Start();
  REQUIRE(broker.ready());
  Subscriber sub(broker.url());
  std::vector<std::string> ids;
  REQUIRE(Eventually([&] {
    clock.Advance(cep::kSecond);  // lets the next retry through
    outbox.Wake();
    while (auto m = sub.Next(std::chrono::milliseconds(50))) {
      std::string body = m->to_string();
      size_t p = body.find("\"uid\":\"");
      if (p != std::string::npos) ids.push_back(body.substr(p + 7, 32));
    }
    return ids.size() >= 5;
  }, std::chrono::seconds(60)));
  REQUIRE(ids.size() == 5);
  for (int i = 1; i <= 5; ++i) CHECK(ids[i - 1] == TestAlertId(i));
  REQUIRE(Eventually([&] { return outbox.Stats().held == 0; }));
}

}  // namespace
}  // namespace vigil::alerting::testing

// Alert delivery benchmarks; one JSON object per line.
//
//   webhook:  alerts/s through the outbox to a webhook on a local HTTP server, with
//             connection reuse (one connection) and, for comparison, with the server
//             closing the connection after every answer.
//   append:   what the engine thread pays per Outbox::Append (ns), with two healthy
//             sinks and with one of them down (connection refused, retrying).
//
// Build in Release (scripts/build release); run build/release/bench/alerting_bench
// [--alerts N] [--appends M].
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "support/alerts.h"
#include "support/net.h"
#include "vigil/alerting/outbox.h"
#include "vigil/alerting/sinks.h"
#include "vigil/cep/options.h"
#include "vigil/cep/state_store.h"

using namespace vigil;
using namespace vigil::alerting;
using Clock = std::chrono::steady_clock;

namespace {

std::unique_ptr<Sink> Webhook(const std::string& url) {
  cep::ConfigNode s = cep::ConfigNode::Map();
  s.Set("type", cep::ConfigNode::Scalar("webhook"));
  s.Set("url", cep::ConfigNode::Scalar(url));
  SinkContext ctx;
  ctx.warn = [](const std::string&) {};
  auto config = LoadAlertingConfig({{"s", s}}, cep::ConfigNode(), ctx);
  if (!config.ok()) {
    std::fprintf(stderr, "%s\n", config.status().message().c_str());
    std::exit(1);
  }
  return std::move(config->sinks[0].sink);
}

OutboxOptions Options() {
  OutboxOptions o;
  o.retry.initial = 50 * cep::kMillisecond;
  o.retry.max = 200 * cep::kMillisecond;
  o.max_bytes = 4ull << 30;
  o.log = [](const std::string&) {};
  return o;
}

void WebhookThroughput(int n, bool reuse) {
  testing::TestHttpServer server([reuse](const testing::RecordedRequest&) {
    testing::Reply r{200, {}, ""};
    if (!reuse) r.headers.emplace_back("Connection", "close");
    return r;
  });
  auto store = cep::NewMemoryStore();
  std::vector<Alert> alerts;
  for (int i = 1; i <= n; ++i) alerts.push_back(testing::MakeTestAlert(i));
  std::vector<OutboxSink> sinks;
  sinks.push_back({"webhook", Webhook(server.url())});
  Outbox outbox(store.get(), std::move(sinks), Options());
  (void)outbox.Recover();
  outbox.Start();
  auto t0 = Clock::now();
  for (const auto& a : alerts) outbox.Append(a, 1);
  testing::Eventually([&] { return outbox.Stats().sinks[0].delivered == static_cast<uint64_t>(n); },
                      std::chrono::minutes(10));
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("{\"bench\":\"webhook\",\"connection_reuse\":%s,\"alerts\":%d,\"seconds\":%.3f,"
              "\"alerts_per_s\":%.0f,\"connections\":%d,\"bytes_per_alert\":%zu}\n",
              reuse ? "true" : "false", n, secs, n / secs, server.connections(), alerts[0].json.size());
  std::fflush(stdout);
}

void AppendCost(int m, bool one_down) {
  testing::TestHttpServer server([](const testing::RecordedRequest&) { return testing::Reply{200, {}, ""}; });
  int dead_port = testing::FreePort();
  auto store = cep::NewMemoryStore();
  std::vector<Alert> alerts;
  for (int i = 1; i <= m; ++i) alerts.push_back(testing::MakeTestAlert(i));
  std::vector<OutboxSink> sinks;
  sinks.push_back({"a", Webhook(server.url())});
  sinks.push_back({"b", Webhook(one_down ? "http://127.0.0.1:" + std::to_string(dead_port) : server.url())});
  Outbox outbox(store.get(), std::move(sinks), Options());
  (void)outbox.Recover();
  outbox.Start();
  std::vector<double> ns;
  ns.reserve(alerts.size());
  auto t0 = Clock::now();
  for (const auto& a : alerts) {
    auto s = Clock::now();
    outbox.Append(a, 0b11);
    ns.push_back(std::chrono::duration<double, std::nano>(Clock::now() - s).count());
  }
  double total = std::chrono::duration<double>(Clock::now() - t0).count();
  OutboxStats st = outbox.Stats();
  std::sort(ns.begin(), ns.end());
  double mean = 0;
  for (double v : ns) mean += v;
  mean /= static_cast<double>(ns.size());
  std::printf("{\"bench\":\"append\",\"sink_b\":\"%s\",\"appends\":%d,\"mean_ns\":%.0f,\"p50_ns\":%.0f,"
              "\"p99_ns\":%.0f,\"p999_ns\":%.0f,\"max_ns\":%.0f,\"appends_per_s\":%.0f,\"b_backlog_at_end\":%llu,"
              "\"b_failures\":%llu}\n",
              one_down ? "down" : "up", m, mean, ns[ns.size() / 2], ns[ns.size() * 99 / 100], ns[ns.size() * 999 / 1000], ns.back(),
              m / total, static_cast<unsigned long long>(st.sinks[1].backlog),
              static_cast<unsigned long long>(st.sinks[1].failures));
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  int alerts = 20000, appends = 200000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--alerts")) alerts = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--appends")) appends = std::atoi(argv[i + 1]);
  }
  WebhookThroughput(alerts, true);
  WebhookThroughput(std::max(1, alerts / 4), false);
  AppendCost(appends, false);
  AppendCost(appends, true);
  return 0;
}

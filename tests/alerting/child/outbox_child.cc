// A process for the outbox crash tests: an "engine" that raises alerts 1..N, delivers
// them to a webhook through the outbox, and checkpoints (alerts + its position) in one
// atomic batch every few alerts, as the engine's checkpoint does. Killed at any point and
// started again on the same state directory, it resumes from its last checkpoint.
//
//   alerting_outbox_child STATE_DIR URL N CHECKPOINT_EVERY [KILL_AT_WRITE before|after]
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "support/alerts.h"
#include "vigil/alerting/outbox.h"
#include "vigil/alerting/sinks.h"
#include "vigil/cep/options.h"
#include "vigil/cep/state_store.h"

using namespace vigil;
using namespace vigil::alerting;

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: %s STATE_DIR URL N CHECKPOINT_EVERY [KILL_AT_WRITE before|after]\n", argv[0]);
    return 2;
  }
  std::string dir = argv[1], url = argv[2];
  int n = std::stoi(argv[3]), every = std::stoi(argv[4]);
  auto opened = cep::OpenRocksDbStore(dir);
  if (!opened.ok()) {
    std::fprintf(stderr, "%s\n", opened.status().message().c_str());
    return 1;
  }
  std::unique_ptr<cep::StateStore> store = std::move(opened).value();
  if (argc >= 7) store = cep::NewFaultInjectingStore(std::move(store), std::stoull(argv[5]), std::string(argv[6]) == "before");

  cep::ConfigNode soc = cep::ConfigNode::Map();
  soc.Set("type", cep::ConfigNode::Scalar("webhook"));
  soc.Set("url", cep::ConfigNode::Scalar(url));
  soc.Set("timeout", cep::ConfigNode::Scalar("20s"));
  SinkContext ctx;
  auto config = LoadAlertingConfig({{"soc", soc}}, cep::ConfigNode(), ctx);
  if (!config.ok()) {
    std::fprintf(stderr, "%s\n", config.status().message().c_str());
    return 1;
  }
  std::vector<OutboxSink> sinks;
  for (auto& s : config->sinks) sinks.push_back({s.name, std::move(s.sink)});
  OutboxOptions options;
  options.retry.initial = cep::kMillisecond;
  options.retry.max = 10 * cep::kMillisecond;
  Outbox outbox(store.get(), std::move(sinks), options);
  if (Status s = outbox.Recover(); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.message().c_str());
    return 1;
  }
  outbox.Start();
  // Where the last checkpoint left the "source".
  std::string pos;
  auto got = store->Get(cep::StateFamily::kPositions, "child", &pos);
  int from = got.ok() && *got ? std::stoi(pos) : 0;
  auto checkpoint = [&](int position) {
    cep::StateBatch batch;
    outbox.AddToCheckpoint(&batch);
    batch.Put(cep::StateFamily::kPositions, "child", std::to_string(position));
    Status s = store->Write(batch, true);
    if (!s.ok()) {
      outbox.CheckpointFailed();
      std::fprintf(stderr, "checkpoint: %s\n", s.message().c_str());
    }
  };
  // Re-processing from the checkpoint re-emits alerts with the same ids.
  for (int i = from + 1; i <= n; ++i) {
    outbox.Append(testing::MakeTestAlert(i), 1);
    if (i % every == 0) checkpoint(i);
  }
  checkpoint(n);
  // Deliveries go on; checkpoints record the sinks' progress as the engine's would.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (outbox.Stats().held > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    checkpoint(n);
  }
  bool drained = outbox.Stats().held == 0;
  checkpoint(n);
  outbox.Stop();
  return drained ? 0 : 3;
}

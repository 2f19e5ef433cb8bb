// Crash tests: a child process delivering through the outbox is killed (SIGKILL) in the
// middle of a delivery or at a checkpoint write, then started again on the same state
// directory. Every alert still arrives, first deliveries in order.
#include <signal.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <set>

#include "support/alerts.h"
#include "support/net.h"
#include "support/temp_dir.h"

namespace vigil::alerting::testing {
namespace {

constexpr int kAlerts = 60;

// Every id 1..n arrived, and the first arrival of each is in order.
void CheckAllDelivered(const std::vector<std::string>& received, int n) {
  std::vector<std::string> first;
  std::set<std::string> seen;
  for (const std::string& id : received) {
    if (seen.insert(id).second) first.push_back(id);
  }
  std::vector<std::string> want;
  for (int i = 1; i <= n; ++i) want.push_back(TestAlertId(i));
  CHECK(first == want);
}

TEST_CASE("killed in the middle of a delivery and restarted on the same state: every alert arrives") {
  vigil::testing::TempDir dir;
  std::mutex mu;
  std::condition_variable cv;
  bool holding = false, release = false;
  std::vector<std::string> received;
  TestHttpServer server([&](const RecordedRequest& q) {
    std::unique_lock<std::mutex> lock(mu);
    if (!release && received.size() == 25) {
      // Hold the 26th delivery open: the child is killed while it waits for the answer.
      holding = true;
      cv.notify_all();
      cv.wait_for(lock, std::chrono::seconds(60), [&] { return release; });
      return Reply{503, {}, ""};
    }
    received.push_back(q.Header("idempotency-key"));
    return Reply{200, {}, ""};
  });
  std::vector<std::string> argv = {VIGIL_OUTBOX_CHILD, dir.path() + "/state", server.url(),
                                   std::to_string(kAlerts), "7"};
  {
    ChildProcess child(argv);
    {
      std::unique_lock<std::mutex> lock(mu);
      REQUIRE(cv.wait_for(lock, std::chrono::seconds(60), [&] { return holding; }));
    }
    child.Signal(SIGKILL);
    auto status = child.Wait(std::chrono::seconds(30));
    REQUIRE(status);
    CHECK(WIFSIGNALED(*status));
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
    CHECK(received.size() == 25);
  }
  cv.notify_all();
  ChildProcess again(argv);
  auto status = again.Wait(std::chrono::seconds(150));
  REQUIRE(status);
  REQUIRE(WIFEXITED(*status));
  CHECK(WEXITSTATUS(*status) == 0);
  std::lock_guard<std::mutex> lock(mu);
  CheckAllDelivered(received, kAlerts);
  CHECK(received.size() <= 2 * kAlerts);
}

TEST_CASE("killed at a checkpoint write, before or after it lands, and restarted: every alert arrives") {
  for (const char* when : {"before", "after"}) {
    for (int kill_at : {1, 3, 9}) {
      INFO(when << " write " << kill_at);
      vigil::testing::TempDir dir;
      std::mutex mu;
      std::vector<std::string> received;
      TestHttpServer server([&](const RecordedRequest& q) {
        std::lock_guard<std::mutex> lock(mu);
        received.push_back(q.Header("idempotency-key"));
        return Reply{200, {}, ""};
      });
      std::vector<std::string> argv = {VIGIL_OUTBOX_CHILD, dir.path() + "/state", server.url(),
                                       std::to_string(kAlerts), "7"};
      {
        std::vector<std::string> faulty = argv;
        faulty.push_back(std::to_string(kill_at));
        faulty.push_back(when);
        ChildProcess child(faulty);
        auto status = child.Wait(std::chrono::seconds(150));
        REQUIRE(status);
        CHECK(WIFSIGNALED(*status));
        CHECK(WTERMSIG(*status) == SIGKILL);
      }
      ChildProcess again(argv);
      auto status = again.Wait(std::chrono::seconds(150));
      REQUIRE(status);
      REQUIRE(WIFEXITED(*status));
      CHECK(WEXITSTATUS(*status) == 0);
      std::lock_guard<std::mutex> lock(mu);
      CheckAllDelivered(received, kAlerts);
    }
  }
}

}  // namespace
}  // namespace vigil::alerting::testing

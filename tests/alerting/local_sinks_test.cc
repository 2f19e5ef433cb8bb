// The stdout and file sinks: one line per alert; the file sink follows rotation.
#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "support/sinks.h"
#include "support/temp_dir.h"

namespace vigil::alerting::testing {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST_CASE("file: one line per alert, appended, and a rotated file is reopened at its path") {
  vigil::testing::TempDir dir;
  std::string path = dir.path() + "/alerts.jsonl";
  auto sink = MakeSink(R"({"type":"file","path":")" + path + R"("})");
  Alert a = MakeTestAlert(1), b = MakeTestAlert(2), c = MakeTestAlert(3);
  REQUIRE(sink->Deliver(*ViewOf(a)).ok());
  REQUIRE(sink->Deliver(*ViewOf(b)).ok());
  CHECK(ReadFile(path) == a.json + "\n" + b.json + "\n");
  std::filesystem::rename(path, path + ".1");  // logrotate moves it away
  REQUIRE(sink->Deliver(*ViewOf(c)).ok());
  CHECK(ReadFile(path + ".1") == a.json + "\n" + b.json + "\n");
  CHECK(ReadFile(path) == c.json + "\n");
}

TEST_CASE("file: a template and an unwritable path") {
  vigil::testing::TempDir dir;
  std::string path = dir.path() + "/t.jsonl";
  auto sink = MakeSink(R"({"type":"file","path":")" + path +
                       R"(","template":"{\"who\": \"{{ key.source.ip }}\", \"what\": {{ rule.id }}}"})");
  REQUIRE(sink->Deliver(*ViewOf(MakeTestAlert(4))).ok());
  CHECK(ReadFile(path) == "{\"who\": \"10.0.0.4\", \"what\": \"ssh-bruteforce\"}\n");
  auto bad = MakeSink(R"({"type":"file","path":")" + dir.path() + R"(/no/such/dir/x.jsonl"})");
  DeliveryResult r = bad->Deliver(*ViewOf(MakeTestAlert(5)));
  CHECK(r.outcome == DeliveryResult::Outcome::kRetry);
  CHECK(r.error.find("No such file or directory") != std::string::npos);
}

TEST_CASE("stdout: the alert (or its ECS form) as one line") {
  auto sink = MakeSink(R"({"type":"stdout","format":"ecs"})");
  int pipefd[2];
  REQUIRE(::pipe(pipefd) == 0);
  std::fflush(stdout);
  int saved = ::dup(STDOUT_FILENO);
  ::dup2(pipefd[1], STDOUT_FILENO);
  DeliveryResult r = sink->Deliver(*ViewOf(MakeTestAlert(6)));
  ::dup2(saved, STDOUT_FILENO);
  ::close(saved);
  ::close(pipefd[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(pipefd[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(pipefd[0]);
  REQUIRE(r.ok());
  REQUIRE_FALSE(out.empty());
  CHECK(out.back() == '\n');
  CHECK(out.find('\n') == out.size() - 1);
  CHECK(out.rfind("{\"@timestamp\":\"2026-11-21T10:15:08.000Z\"", 0) == 0);
  CHECK(out.find("\"kind\":\"alert\"") != std::string::npos);
}

}  // namespace
}  // namespace vigil::alerting::testing

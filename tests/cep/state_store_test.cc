// The state stores: memory and RocksDB behave alike; RocksDB keeps data across reopening,
// refuses foreign, incompatible and damaged directories with a message.
#include "vigil/cep/state_store.h"

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>

#include <catch2/catch.hpp>

#include "support/temp_dir.h"

namespace fs = std::filesystem;
using vigil::Status;
using vigil::cep::StateBatch;
using vigil::cep::StateFamily;
using vigil::cep::StateStore;
using vigil::testing::TempDir;

namespace {

std::map<std::string, std::string> All(const StateStore& store, StateFamily f,
                                       std::string_view begin = "", std::string_view end = "") {
  std::map<std::string, std::string> out;
  Status s = store.Scan(f, begin, end, [&](std::string_view k, std::string_view v) {
    out.emplace(std::string(k), std::string(v));
    return true;
  });
  REQUIRE(s.ok());
  return out;
}

std::string GetOr(const StateStore& store, StateFamily f, const std::string& key,
                  const std::string& missing = "<none>") {
  std::string v;
  auto r = store.Get(f, key, &v);
  REQUIRE(r.ok());
  return *r ? v : missing;
}

// The behaviour every store must have.
void CheckStoreContract(StateStore& store) {
  StateBatch b;
  b.Put(StateFamily::kKeyed, "a", "1");
  b.Put(StateFamily::kKeyed, "b", "2");
  b.Put(StateFamily::kKeyed, "c", "3");
  b.Put(StateFamily::kKeyed, "d", std::string("\0\xff", 2));  // binary values
  b.Put(StateFamily::kTimers, "a", "timer");
  REQUIRE(store.Write(b, true).ok());

  // Families are separate key spaces.
  CHECK(GetOr(store, StateFamily::kKeyed, "a") == "1");
  CHECK(GetOr(store, StateFamily::kTimers, "a") == "timer");
  CHECK(GetOr(store, StateFamily::kEvents, "a") == "<none>");
  CHECK(GetOr(store, StateFamily::kKeyed, "d") == std::string("\0\xff", 2));

  // Scans are in key order over [begin, end).
  CHECK(All(store, StateFamily::kKeyed) ==
        std::map<std::string, std::string>{{"a", "1"}, {"b", "2"}, {"c", "3"}, {"d", std::string("\0\xff", 2)}});
  CHECK(All(store, StateFamily::kKeyed, "b", "d") ==
        std::map<std::string, std::string>{{"b", "2"}, {"c", "3"}});
  std::vector<std::string> seen;
  REQUIRE(store.Scan(StateFamily::kKeyed, "", "", [&](std::string_view k, std::string_view) {
    seen.emplace_back(k);
    return seen.size() < 2;  // stops when told
  }).ok());
  CHECK(seen == std::vector<std::string>{"a", "b"});

  // Overwrite, delete and range delete in one batch.
  b.Clear();
  CHECK(b.empty());
  b.Put(StateFamily::kKeyed, "a", "10");
  b.Delete(StateFamily::kKeyed, "d");
  b.DeleteRange(StateFamily::kKeyed, "b", "c");
  b.Delete(StateFamily::kKeyed, "never-there");
  CHECK(b.size() == 4);
  REQUIRE(store.Write(b, false).ok());
  CHECK(All(store, StateFamily::kKeyed) ==
        std::map<std::string, std::string>{{"a", "10"}, {"c", "3"}});
  CHECK(store.ApproximateBytes(StateFamily::kKeyed) > 0);
}

}  // namespace

TEST_CASE("state store: the memory store keeps families, order, batches and ranges", "[state]") {
  auto store = vigil::cep::NewMemoryStore();
  CheckStoreContract(*store);
  CHECK(store->Describe() == "memory");
}

TEST_CASE("state store: RocksDB behaves like the memory store and survives reopening", "[state]") {
  TempDir tmp;
  std::string dir = tmp.path() + "/state";
  {
    auto store = vigil::cep::OpenRocksDbStore(dir);
    REQUIRE(store.ok());
    CheckStoreContract(**store);
    CHECK((*store)->Describe() == dir);
  }
  auto again = vigil::cep::OpenRocksDbStore(dir);
  REQUIRE(again.ok());
  CHECK(All(**again, StateFamily::kKeyed) ==
        std::map<std::string, std::string>{{"a", "10"}, {"c", "3"}});
  CHECK(GetOr(**again, StateFamily::kMeta, "format") == std::string(vigil::cep::kStateFormat));
}

TEST_CASE("state store: an empty existing directory is a new store", "[state]") {
  TempDir tmp;
  fs::create_directories(tmp.path() + "/empty");
  auto store = vigil::cep::OpenRocksDbStore(tmp.path() + "/empty");
  REQUIRE(store.ok());
}

TEST_CASE("state store: a directory that holds something else is refused", "[state]") {
  TempDir tmp;
  tmp.Write("logs/app.log", "not a store\n");
  auto store = vigil::cep::OpenRocksDbStore(tmp.path() + "/logs");
  REQUIRE_FALSE(store.ok());
  CHECK(store.status().message().find("holds no Vigil state") != std::string::npos);
  // Nothing was created in it.
  CHECK_FALSE(fs::exists(tmp.path() + "/logs/CURRENT"));

  tmp.Write("file", "x");
  auto file = vigil::cep::OpenRocksDbStore(tmp.path() + "/file");
  REQUIRE_FALSE(file.ok());
  CHECK(file.status().message().find("is not a directory") != std::string::npos);
}

TEST_CASE("state store: another format version is refused, never misread", "[state]") {
  TempDir tmp;
  std::string dir = tmp.path() + "/state";
  {
    auto store = vigil::cep::OpenRocksDbStore(dir);
    REQUIRE(store.ok());
    StateBatch b;
    b.Put(StateFamily::kMeta, "format", "vigil-state/999");
    REQUIRE((*store)->Write(b, true).ok());
  }
  auto store = vigil::cep::OpenRocksDbStore(dir);
  REQUIRE_FALSE(store.ok());
  CHECK(store.status().code() == Status::Code::kCorruption);
  const std::string& msg = store.status().message();
  CHECK(msg.find("vigil-state/999") != std::string::npos);
  CHECK(msg.find(std::string(vigil::cep::kStateFormat)) != std::string::npos);
  CHECK(msg.find("to start fresh, move '" + dir + "' aside") != std::string::npos);
}

TEST_CASE("state store: a garbled or truncated store gives a clear error, not a crash", "[state]") {
  TempDir tmp;
  std::string dir = tmp.path() + "/state";
  auto make = [&] {
    fs::remove_all(dir);
    auto store = vigil::cep::OpenRocksDbStore(dir);
    REQUIRE(store.ok());
    StateBatch b;
    for (int i = 0; i < 1000; ++i) b.Put(StateFamily::kKeyed, "k" + std::to_string(i), std::string(100, 'v'));
    REQUIRE((*store)->Write(b, true).ok());
  };
  auto files_named = [&](const std::string& prefix) {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(dir)) {
      if (e.path().filename().string().rfind(prefix, 0) == 0) out.push_back(e.path());
    }
    REQUIRE_FALSE(out.empty());
    return out;
  };
  auto expect_refused = [&] {
    auto store = vigil::cep::OpenRocksDbStore(dir);
    REQUIRE_FALSE(store.ok());
    INFO(store.status().message());
    CHECK(store.status().message().find("'" + dir + "'") != std::string::npos);
    CHECK(store.status().message().find("to start fresh") != std::string::npos);
  };

  SECTION("garbled CURRENT") {
    make();
    std::ofstream(fs::path(dir) / "CURRENT", std::ios::trunc) << "MANIFEST-999999\n";
    expect_refused();
  }
  SECTION("garbled MANIFEST") {
    make();
    for (const fs::path& p : files_named("MANIFEST-")) {
      std::ofstream(p, std::ios::trunc | std::ios::binary) << std::string(4096, '\x5a');
    }
    expect_refused();
  }
  SECTION("truncated MANIFEST") {
    make();
    for (const fs::path& p : files_named("MANIFEST-")) fs::resize_file(p, 10);
    expect_refused();
  }
}

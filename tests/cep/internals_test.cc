// The engine's internal containers, against the plain structures they replace: same order,
// same layout, for random operation sequences.
#include <queue>
#include <random>
#include <vector>

#include <catch2/catch.hpp>

#include "key_encoding.h"
#include "nfa/inline_vec.h"
#include "nfa/java_heap.h"
#include "timer_queue.h"
#include "vigil/cep/key.h"

using namespace vigil::cep;

namespace {

struct Later {
  bool operator()(const Timer& a, const Timer& b) const {
    return a.deadline != b.deadline ? a.deadline > b.deadline : a.seq > b.seq;
  }
};

}  // namespace

TEST_CASE("TimerQueue fires in the order of one heap over all timers", "[internals][property]") {
  for (uint32_t seed = 1; seed <= 50; ++seed) {
    std::mt19937 rng(seed);
    TimerQueue q;
    std::priority_queue<Timer, std::vector<Timer>, Later> reference;
    uint64_t seq = 0;
    Timestamp now = 0;
    for (int step = 0; step < 5000; ++step) {
      if (rng() % 3 != 0) {
        // Mostly now + a constant (in order), sometimes earlier (re-armed), ties often.
        Timestamp deadline = now + (rng() % 4 == 0 ? static_cast<Timestamp>(rng() % 40) : 40);
        Timer t{deadline, seq++, static_cast<uint32_t>(rng() % 7), 0, 0, 0, nullptr};
        q.Push(t);
        reference.push(t);
      } else if (!reference.empty()) {
        REQUIRE(!q.empty());
        bool ahead_sorted = true;  // Ahead(i) are the next timers, in order
        for (uint32_t i = 1; i < TimerQueue::kAhead && q.Ahead(i) != nullptr; ++i) {
          ahead_sorted &= Later()(*q.Ahead(i), *q.Ahead(i - 1));
        }
        REQUIRE(ahead_sorted);
        INFO("seed " << seed << " step " << step);
        REQUIRE(q.Top().seq == reference.top().seq);
        now = std::max(now, q.Top().deadline);
        q.Pop();
        reference.pop();
      }
      REQUIRE(q.size() == reference.size());
    }
    while (!reference.empty()) {
      REQUIRE(q.Top().seq == reference.top().seq);
      q.Pop();
      reference.pop();
    }
    CHECK(q.empty());
  }
}

namespace {

struct Item {
  int key;
  int id;
  std::vector<int> payload;  // not trivially copyable, but trivially relocatable
};
struct ItemOrder {
  int operator()(const Item& a, const Item& b) const { return a.key < b.key ? -1 : (a.key > b.key); }
};

template <typename H>
std::vector<int> Ids(const H& h) {
  std::vector<int> ids;
  for (const Item& i : h) ids.push_back(i.id);
  return ids;
}

}  // namespace

TEST_CASE("JavaHeap over an InlineVec keeps the layout it has over a std::vector",
          "[internals][property]") {
  for (uint32_t seed = 1; seed <= 50; ++seed) {
    std::mt19937 rng(seed);
    JavaHeap<Item, ItemOrder> a;
    JavaHeap<Item, ItemOrder, InlineVec<Item, 2>> b, other;
    int id = 0;
    for (int step = 0; step < 2000; ++step) {
      const uint32_t op = rng() % 10;
      if (op < 5) {
        const int key = static_cast<int>(rng() % 8);  // many ties: their order is the point
        a.Add(Item{key, id, {id}});
        b.Add(Item{key, id, {id}});
        ++id;
      } else if (op < 7 && !a.empty()) {
        CHECK(a.Poll().id == b.Poll().id);
      } else if (op < 8) {
        const int cut = static_cast<int>(rng() % 8);
        std::vector<int> removed_a, removed_b;
        a.RemoveIf([&](const Item& i) { return i.key < cut && i.id % 2 == 0; },
                   [&](Item& i) { removed_a.push_back(i.id); });
        b.RemoveIf([&](const Item& i) { return i.key < cut && i.id % 2 == 0; },
                   [&](Item& i) { removed_b.push_back(i.id); });
        CHECK(removed_a == removed_b);
      } else if (op < 9) {
        // Moving the elements to another queue and back keeps the array.
        other.TakeFrom(b);
        CHECK(b.empty());
        b.TakeFrom(other);
      } else {
        b.swap(other);
        b.swap(other);
      }
      REQUIRE(Ids(a) == Ids(b));
      bool payloads_intact = true;
      for (const Item& i : b) payloads_intact &= i.payload == std::vector<int>{i.id};
      REQUIRE(payloads_intact);
    }
  }
}

TEST_CASE("the engine's key encoder writes EncodeKey's bytes", "[internals][key]") {
  Event e;
  e.ResetFields(6);
  e.SetField(0, Value::String(e.CopyString("10.0.0.9")));
  e.SetField(1, Value::Int(-22));
  e.SetField(2, Value::Double(1.0));
  e.SetField(3, Value::Double(2.5));
  e.SetField(4, Value::Bool(true));
  std::string long_value(300, 'x');  // a two-byte varint length
  e.SetField(5, Value::String(e.CopyString(long_value)));
  const std::vector<FieldId> fields = {0, 1, 2, 3, 4, 5};
  std::string key;
  REQUIRE(EncodeKey(e, fields, &key));
  // kind, varint length, bytes / kind, 8 bytes little-endian / an integral double as an int.
  std::string want;
  want += static_cast<char>(ValueKind::kString);
  want += '\x08';
  want += "10.0.0.9";
  want += static_cast<char>(ValueKind::kInt);
  const uint64_t minus22 = static_cast<uint64_t>(int64_t{-22});
  want.append(reinterpret_cast<const char*>(&minus22), 8);
  want += static_cast<char>(ValueKind::kInt);
  const uint64_t one = 1;
  want.append(reinterpret_cast<const char*>(&one), 8);
  want += static_cast<char>(ValueKind::kDouble);
  const double half = 2.5;
  want.append(reinterpret_cast<const char*>(&half), 8);
  want += static_cast<char>(ValueKind::kBool);
  want += '\x01';
  want += static_cast<char>(ValueKind::kString);
  want += static_cast<char>(300 % 128 | 0x80);
  want += static_cast<char>(300 / 128);
  want += long_value;
  CHECK(key == want);
  std::vector<char> buf(EncodedKeyBound(e, fields));
  CHECK(std::string(buf.data(), EncodeKeyTo(e, fields, buf.data())) == want);
  CHECK(EncodedKeyBound(e, {0, 5, 1}) != SIZE_MAX);
  Event missing;
  missing.ResetFields(1);
  CHECK(EncodedKeyBound(missing, {0}) == SIZE_MAX);
}

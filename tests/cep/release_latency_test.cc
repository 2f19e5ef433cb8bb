// Release latency: an event whose time is at or below the watermark, but not newer than the
// newest event seen, is matched at once; it must not wait in the reorder buffer for a later
// event to move the watermark (in a live stream its alert would wait for unrelated traffic).
#include <catch2/catch.hpp>

#include "vigil/cep/engine.h"

using namespace vigil::cep;

namespace {

class Always final : public Condition {
 public:
  bool Eval(const EvalContext&) const override { return true; }
};

struct Counter final : MatchSink {
  size_t matches = 0;
  void OnMatch(const Match&) override { ++matches; }
};

std::shared_ptr<Event> At(Timestamp t) {
  auto e = std::make_shared<Event>();
  e->time = t;
  e->ResetFields(1);
  return e;
}

RuleSpec EveryEvent() {
  RuleSpec r;
  r.id = "every-event";
  r.kind = RuleKind::kSingleEvent;
  r.where = std::make_shared<Always>();
  return r;
}

}  // namespace

TEST_CASE("an event at the newest time seen is matched at once, without waiting for a newer one",
          "[engine][latency]") {
  Counter sink;
  Engine engine(&sink);
  engine.AddStream("default", StreamOptions{0});
  REQUIRE(engine.AddRule(EveryEvent()).ok());
  engine.Process(At(50));
  CHECK(sink.matches == 1);
  engine.Process(At(50));  // equal time: not late, and the watermark (50) has reached it
  CHECK(sink.matches == 2);
  CHECK(engine.buffered_events() == 0);
}

TEST_CASE("an out-of-order event already behind the watermark is matched at once",
          "[engine][latency]") {
  Counter sink;
  Engine engine(&sink);
  engine.AddStream("default", StreamOptions{10});
  REQUIRE(engine.AddRule(EveryEvent()).ok());
  engine.Process(At(100));  // watermark 90
  CHECK(sink.matches == 0);
  engine.Process(At(90));  // not late (not older than 90), and nothing can precede it now
  CHECK(sink.matches == 1);
  CHECK(engine.buffered_events() == 1);  // only the event at 100 waits
}

#include <catch2/catch.hpp>

#include "vigil/cep/engine.h"

using namespace vigil::cep;

namespace {

class FieldEquals final : public Condition {
 public:
  FieldEquals(FieldId f, int64_t v) : f_(f), v_(v) {}
  bool Eval(const EvalContext& ctx) const override {
    const Value& x = ctx.event.field(f_);
    return x.kind == ValueKind::kInt && x.i == v_;
  }

 private:
  FieldId f_;
  int64_t v_;
};

struct Recorder final : MatchSink {
  std::vector<std::string> seen;  // "rule@time:seq"
  void OnMatch(const Match& m) override {
    seen.push_back(std::to_string(m.rule) + "@" + std::to_string(m.time) + ":" +
                   std::to_string(m.events.front().event->seq));
  }
};

std::shared_ptr<Event> Ev(Timestamp t, int64_t kind, int64_t key = 1) {
  auto e = std::make_shared<Event>();
  e->time = t;
  e->ResetFields(2);
  e->SetField(0, Value::Int(kind));
  e->SetField(1, Value::Int(key));
  return e;
}

RuleSpec Single(int64_t kind) {
  RuleSpec r;
  r.id = "r";
  r.kind = RuleKind::kSingleEvent;
  r.where = std::make_shared<FieldEquals>(0, kind);
  r.key_fields = {1};
  r.key_names = {"k"};
  return r;
}

}  // namespace

TEST_CASE("single-event rules see events in event-time order within the max delay", "[engine]") {
  Recorder rec;
  Engine engine(&rec);
  engine.AddStream("default", StreamOptions{10});
  REQUIRE(engine.AddRule(Single(7)).ok());
  CHECK(engine.Process(Ev(100, 7)) == ProcessResult::kAccepted);
  CHECK(engine.Process(Ev(95, 7)) == ProcessResult::kAccepted);  // within 10 of 100
  CHECK(rec.seen.empty());  // watermark 90: nothing released yet
  CHECK(engine.Process(Ev(105, 7)) == ProcessResult::kAccepted);  // watermark 95
  REQUIRE(rec.seen.size() == 1);
  CHECK(rec.seen[0] == "0@95:1");
  CHECK(engine.Process(Ev(80, 7)) == ProcessResult::kLate);
  CHECK(engine.stats().late == 1);
  engine.Finish();
  CHECK(rec.seen == std::vector<std::string>{"0@95:1", "0@100:0", "0@105:2"});
}

TEST_CASE("equal timestamps keep arrival order", "[engine]") {
  Recorder rec;
  Engine engine(&rec);
  engine.AddStream("default", StreamOptions{0});
  REQUIRE(engine.AddRule(Single(7)).ok());
  for (int i = 0; i < 5; ++i) engine.Process(Ev(50, 7));
  engine.Finish();
  CHECK(rec.seen == std::vector<std::string>{"0@50:0", "0@50:1", "0@50:2", "0@50:3", "0@50:4"});
}

TEST_CASE("suppress drops repeats per key within the span, in event time", "[engine]") {
  Recorder rec;
  Engine engine(&rec);
  engine.AddStream("default", StreamOptions{0});
  RuleSpec r = Single(7);
  r.suppress = 10;
  uint32_t idx = *engine.AddRule(std::move(r));
  engine.Process(Ev(0, 7, 1));
  engine.Process(Ev(5, 7, 1));   // suppressed
  engine.Process(Ev(6, 7, 2));   // other key
  engine.Process(Ev(10, 7, 1));  // 10 >= 0 + 10: alerts again
  engine.Finish();
  CHECK(rec.seen.size() == 3);
  CHECK(engine.rule_stats(idx).suppressed == 1);
}

TEST_CASE("events lacking a key field are not seen by the rule", "[engine]") {
  Recorder rec;
  Engine engine(&rec);
  engine.AddStream("default", StreamOptions{0});
  uint32_t idx = *engine.AddRule(Single(7));
  auto e = std::make_shared<Event>();
  e->time = 1;
  e->ResetFields(2);
  e->SetField(0, Value::Int(7));
  engine.Process(e);
  engine.Finish();
  CHECK(rec.seen.empty());
  CHECK(engine.rule_stats(idx).events_seen == 0);
}

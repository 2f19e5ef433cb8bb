// ConditionIndex::Union: the index of `a or b`, which the engine's dispatch uses to skip
// rules (architecture decision 1).
#include <catch2/catch.hpp>

#include "vigil/cep/condition.h"

namespace vigil::cep {
namespace {

ConditionIndex Bit(uint32_t b) {
  ConditionIndex i;
  i.kind = ConditionIndex::Kind::kPredicateBit;
  i.bit = b;
  return i;
}

ConditionIndex Field(FieldId f, std::vector<std::string> values) {
  ConditionIndex i;
  i.kind = ConditionIndex::Kind::kFieldEquals;
  i.field = f;
  i.values = std::move(values);
  return i;
}

}  // namespace

TEST_CASE("condition index: predicate bits unite into any of them", "[cep][index]") {
  ConditionIndex same = ConditionIndex::Union(Bit(3), Bit(3));
  CHECK(same.kind == ConditionIndex::Kind::kPredicateBit);
  CHECK(same.bit == 3);
  ConditionIndex two = ConditionIndex::Union(Bit(9), Bit(3));
  CHECK(two.kind == ConditionIndex::Kind::kAnyPredicateBit);
  CHECK(two.bits == std::vector<uint32_t>{3, 9});
  ConditionIndex three = ConditionIndex::Union(two, Bit(5));
  CHECK(three.bits == std::vector<uint32_t>{3, 5, 9});
  ConditionIndex again = ConditionIndex::Union(Bit(9), three);
  CHECK(again.kind == ConditionIndex::Kind::kAnyPredicateBit);
  CHECK(again.bits == std::vector<uint32_t>{3, 5, 9});
  CHECK(ConditionIndex::Union(three, two).bits == std::vector<uint32_t>{3, 5, 9});
}

TEST_CASE("condition index: what cannot be expressed is no index", "[cep][index]") {
  CHECK(ConditionIndex::Union(Bit(1), Field(0, {"a"})).kind == ConditionIndex::Kind::kNone);
  CHECK(ConditionIndex::Union(Field(0, {"a"}), ConditionIndex::Union(Bit(1), Bit(2))).kind ==
        ConditionIndex::Kind::kNone);
  CHECK(ConditionIndex::Union(Bit(1), ConditionIndex{}).kind == ConditionIndex::Kind::kNone);
  ConditionIndex f = ConditionIndex::Union(Field(0, {"b"}), Field(0, {"a", "b"}));
  CHECK(f.kind == ConditionIndex::Kind::kFieldEquals);
  CHECK(f.values == std::vector<std::string>{"a", "b"});
  CHECK(ConditionIndex::Union(Field(0, {"a"}), Field(1, {"a"})).kind ==
        ConditionIndex::Kind::kNone);
}

}  // namespace vigil::cep

// Pattern steps → NFA, following FlinkCEP's NFACompiler construction: states are built from
// the last step backwards, each step's quantifier (single, times, looping), optional,
// greedy, until, inner/outer contiguity and absent (notFollowedBy / notNext) becoming
// states and conditioned edges.
#include <map>

#include "nfa/program.h"

namespace vigil::cep {

namespace {

enum class Consuming { kStrict, kSkipTillNext, kSkipTillAny, kNotFollow, kNotNext };

EdgeCondPtr True() { return nullptr; }

EdgeCondPtr Not(EdgeCondPtr c) {
  auto n = std::make_shared<EdgeCond>();
  n->kind = EdgeCond::Kind::kNot;
  if (!c) {
    // not(true): never. Represent as not(true) explicitly.
    auto t = std::make_shared<EdgeCond>();
    t->kind = EdgeCond::Kind::kTrue;
    c = t;
  }
  n->a = std::move(c);
  return n;
}

EdgeCondPtr And(EdgeCondPtr a, EdgeCondPtr b) {
  if (!a) return b;
  if (!b) return a;
  auto n = std::make_shared<EdgeCond>();
  n->kind = EdgeCond::Kind::kAnd;
  n->a = std::move(a);
  n->b = std::move(b);
  return n;
}

class Compiler {
 public:
  explicit Compiler(const RuleSpec& rule) : rule_(rule), steps_(rule.steps) {
    program_ = std::make_shared<NfaProgram>();
    program_->within = rule.within;
    for (const StepSpec& s : steps_) {
      where_.push_back(Leaf(s.where.get()));
      until_.push_back(s.until ? Leaf(s.until.get()) : nullptr);
    }
  }

  std::shared_ptr<const NfaProgram> Compile() {
    current_ = static_cast<int>(steps_.size()) - 1;
    uint32_t sink = CreateState("$endState$", -1, NfaStateType::kFinal);
    sink = CreateMiddleStates(sink);
    uint32_t start = ConvertPattern(sink);
    program_->states[start].start = true;
    program_->start = start;
    return program_;
  }

 private:
  // ---- the steps as FlinkCEP patterns ----
  Consuming Strategy(int i) const {
    const StepSpec& s = steps_[static_cast<size_t>(i)];
    if (i == 0) return Consuming::kStrict;  // Pattern.begin()
    if (s.absent) return s.contiguity == Contiguity::kStrict ? Consuming::kNotNext : Consuming::kNotFollow;
    switch (s.contiguity) {
      case Contiguity::kStrict: return Consuming::kStrict;
      case Contiguity::kRelaxed: return Consuming::kSkipTillNext;
      case Contiguity::kAny: return Consuming::kSkipTillAny;
    }
    return Consuming::kSkipTillNext;
  }
  Consuming InnerStrategy(int i) const {
    const StepSpec& s = steps_[static_cast<size_t>(i)];
    if (s.consecutive) return Consuming::kStrict;
    if (s.combinations) return Consuming::kSkipTillAny;
    return Consuming::kSkipTillNext;
  }
  bool Looping(int i) const { return steps_[static_cast<size_t>(i)].max_count == StepSpec::kUnbounded; }
  bool Times(int i) const {
    const StepSpec& s = steps_[static_cast<size_t>(i)];
    return !Looping(i) && s.max_count > 1;
  }
  bool Optional(int i) const { return steps_[static_cast<size_t>(i)].optional; }
  bool Greedy(int i) const { return steps_[static_cast<size_t>(i)].greedy; }
  uint32_t TimesFrom(int i) const { return steps_[static_cast<size_t>(i)].min_count; }
  uint32_t TimesTo(int i) const {
    const StepSpec& s = steps_[static_cast<size_t>(i)];
    return Looping(i) ? s.min_count : s.max_count;  // timesOrMore(n) is Times.of(n)
  }

  EdgeCondPtr Leaf(const Condition* c) {
    auto n = std::make_shared<EdgeCond>();
    n->kind = EdgeCond::Kind::kLeaf;
    n->leaf = static_cast<uint32_t>(program_->leaves.size());
    bool iterative = c->UsesSteps();
    program_->leaves.push_back(NfaLeaf{c, iterative});
    program_->iterative |= iterative;
    return n;
  }

  EdgeCondPtr TakeCondition(int i) const { return where_[static_cast<size_t>(i)]; }
  EdgeCondPtr UntilCondition(int i) const { return until_[static_cast<size_t>(i)]; }

  EdgeCondPtr IgnoreFor(Consuming c, int i) const {
    switch (c) {
      case Consuming::kSkipTillNext: return Not(TakeCondition(i));
      case Consuming::kSkipTillAny: return True();
      default: return kNoEdge();
    }
  }
  // Marks "no IGNORE edge" (FlinkCEP's null ignore condition), distinct from `true`.
  static EdgeCondPtr kNoEdge() {
    static const EdgeCondPtr none = [] {
      auto n = std::make_shared<EdgeCond>();
      n->kind = EdgeCond::Kind::kTrue;
      return n;
    }();
    return none;
  }
  static bool IsNoEdge(const EdgeCondPtr& c) { return c.get() == kNoEdge().get(); }

  EdgeCondPtr IgnoreCondition(int i) const { return IgnoreFor(Strategy(i), i); }
  EdgeCondPtr InnerIgnoreCondition(int i) const { return IgnoreFor(InnerStrategy(i), i); }

  // FlinkCEP extendWithUntilCondition.
  static EdgeCondPtr ExtendWithUntil(EdgeCondPtr cond, bool cond_is_none, EdgeCondPtr until,
                                     bool is_take) {
    if (until && !cond_is_none) return And(Not(until), cond);
    if (until && cond_is_none && is_take) return Not(until);
    return cond;
  }

  // ---- states ----
  uint32_t CreateState(const std::string& base, int32_t step, NfaStateType type) {
    std::string name = base;
    for (int counter = 0; used_names_.count(name); ++counter) {
      name = base + ":" + std::to_string(counter);
    }
    used_names_[name] = true;
    NfaState s;
    s.name = name;
    s.step = step;
    s.type = type;
    program_->states.push_back(std::move(s));
    return static_cast<uint32_t>(program_->states.size() - 1);
  }
  uint32_t CreateStepState(NfaStateType type) {
    return CreateState(steps_[static_cast<size_t>(current_)].name, current_, type);
  }
  NfaState& S(uint32_t i) { return program_->states[i]; }
  void AddEdge(uint32_t from, EdgeAction a, uint32_t to, EdgeCondPtr c) {
    S(from).edges.push_back(NfaEdge{a, to, std::move(c)});
  }

  uint32_t CreateStopState(EdgeCondPtr not_cond, int step) {
    auto it = stop_states_.find(step);
    if (it != stop_states_.end()) return it->second;
    uint32_t stop = CreateState(steps_[static_cast<size_t>(step)].name, step, NfaStateType::kStop);
    AddEdge(stop, EdgeAction::kTake, stop, std::move(not_cond));
    stop_states_[step] = stop;
    return stop;
  }

  // The notFollowedBy steps reachable backwards from the current step over optional and
  // notFollowedBy steps (FlinkCEP getCurrentNotCondition).
  std::vector<int> CurrentNotConditions() const {
    std::vector<int> nots;
    int prev = current_;
    while (prev > 0 && (Optional(prev - 1) || Strategy(prev - 1) == Consuming::kNotFollow)) {
      --prev;
      if (Strategy(prev) == Consuming::kNotFollow) nots.push_back(prev);
    }
    return nots;
  }

  void AddStopStates(uint32_t state) {
    for (int n : CurrentNotConditions()) {
      uint32_t stop = CreateStopState(TakeCondition(n), n);
      AddEdge(state, EdgeAction::kProceed, stop, TakeCondition(n));
    }
  }

  void AddStopStateToLooping(uint32_t state) {
    if (following_ >= 0 && Strategy(following_) == Consuming::kNotFollow) {
      uint32_t stop = CreateStopState(TakeCondition(following_), following_);
      AddEdge(state, EdgeAction::kProceed, stop, TakeCondition(following_));
    }
  }

  // FlinkCEP copyWithoutTransitiveNots: taking an event in an optional step invalidates the
  // notFollowedBy steps before it, so its TAKE goes to a copy without their stop edges.
  uint32_t CopyWithoutTransitiveNots(uint32_t sink) {
    std::vector<int> nots = CurrentNotConditions();
    if (nots.empty() || !Optional(current_)) return sink;
    const NfaState original = S(sink);
    uint32_t copy = CreateState(original.name, original.step, original.type);
    for (const NfaEdge& e : original.edges) {
      if (e.action == EdgeAction::kProceed) {
        uint32_t target = e.target;
        bool remove = false;
        if (S(target).type == NfaStateType::kStop) {
          for (int n : nots) remove |= S(target).step == n;
        } else {
          target = CopyWithoutTransitiveNots(e.target);
        }
        if (!remove) AddEdge(copy, e.action, target, e.cond);
      } else {
        AddEdge(copy, e.action, e.target == sink ? copy : e.target, e.cond);
      }
    }
    return copy;
  }

  uint32_t Copy(uint32_t state) {
    const NfaState original = S(state);
    uint32_t copy = CreateState(original.name.substr(0, original.name.find(':')), original.step,
                                original.type);
    for (const NfaEdge& e : original.edges) {
      AddEdge(copy, e.action, e.target == state ? copy : e.target, e.cond);
    }
    return copy;
  }

  void UpdateWithGreedyCondition(uint32_t state, const EdgeCondPtr& take) {
    for (NfaEdge& e : S(state).edges) e.cond = And(e.cond, Not(take));
  }

  uint32_t CreateMiddleStates(uint32_t sink) {
    uint32_t last = sink;
    while (current_ > 0) {
      Consuming c = Strategy(current_);
      if (c == Consuming::kNotFollow) {
        // A notFollowedBy in the middle becomes stop edges on its neighbours; at the end
        // (with `within`) it is a pending state that completes when the time runs out.
        if (program_->within > 0 && S(last).type == NfaStateType::kFinal) {
          uint32_t pending = CreateStepState(NfaStateType::kPending);
          EdgeCondPtr not_cond = TakeCondition(current_);
          uint32_t stop = CreateStopState(not_cond, current_);
          AddEdge(pending, EdgeAction::kProceed, stop, not_cond);
          AddEdge(pending, EdgeAction::kIgnore, pending, Not(not_cond));
          last = pending;
        }
      } else if (c == Consuming::kNotNext) {
        uint32_t not_next = CreateStepState(NfaStateType::kNormal);
        EdgeCondPtr not_cond = TakeCondition(current_);
        uint32_t stop = CreateStopState(not_cond, current_);
        if (S(last).type == NfaStateType::kFinal) {
          AddEdge(not_next, EdgeAction::kIgnore, last, Not(not_cond));
        } else {
          AddEdge(not_next, EdgeAction::kProceed, last, Not(not_cond));
        }
        AddEdge(not_next, EdgeAction::kProceed, stop, not_cond);
        last = not_next;
      } else {
        last = ConvertPattern(last);
      }
      following_ = current_;
      --current_;
    }
    return last;
  }

  uint32_t ConvertPattern(uint32_t sink) {
    uint32_t last;
    if (Looping(current_)) {
      uint32_t s = CopyWithoutTransitiveNots(sink);
      uint32_t looping = CreateLooping(s);
      last = CreateTimesState(looping, sink);
    } else if (Times(current_)) {
      last = CreateTimesState(sink, sink);
    } else {
      last = CreateSingletonState(sink, sink, TakeCondition(current_), IgnoreCondition(current_),
                                  Optional(current_));
    }
    AddStopStates(last);
    return last;
  }

  uint32_t CreateTimesState(uint32_t sink, uint32_t proceed) {
    uint32_t last = sink;
    EdgeCondPtr until = UntilCondition(current_);
    EdgeCondPtr inner = InnerIgnoreCondition(current_);
    bool inner_none = IsNoEdge(inner);
    EdgeCondPtr inner_ignore = ExtendWithUntil(inner, inner_none, until, false);
    EdgeCondPtr take = ExtendWithUntil(TakeCondition(current_), false, until, true);
    uint32_t from = TimesFrom(current_), to = TimesTo(current_);
    if (Greedy(current_) && from != to) {
      if (until) original_state_[sink] = Copy(sink);
      UpdateWithGreedyCondition(sink, take);
    }
    for (uint32_t i = from; i < to; ++i) {
      last = CreateSingletonState(last, proceed, take, inner_ignore, true);
      AddStopStateToLooping(last);
    }
    for (uint32_t i = 0; i + 1 < from; ++i) {
      last = CreateSingletonState(last, kNoState, take, inner_ignore, false);
      AddStopStateToLooping(last);
    }
    return CreateSingletonState(last, proceed, take, IgnoreCondition(current_), Optional(current_));
  }

  static constexpr uint32_t kNoState = UINT32_MAX;

  uint32_t CreateSingletonState(uint32_t sink_state, uint32_t proceed, EdgeCondPtr take,
                                EdgeCondPtr ignore, bool optional) {
    uint32_t singleton = CreateStepState(NfaStateType::kNormal);
    uint32_t sink = CopyWithoutTransitiveNots(sink_state);
    AddEdge(singleton, EdgeAction::kTake, sink, take);
    if (optional) {
      if (Greedy(current_)) {
        EdgeCondPtr until = UntilCondition(current_);
        if (until) {
          auto it = original_state_.find(proceed);
          if (it != original_state_.end()) {
            AddEdge(singleton, EdgeAction::kProceed, it->second, until);
          }
        }
        AddEdge(singleton, EdgeAction::kProceed, proceed, until ? Not(until) : True());
      } else {
        AddEdge(singleton, EdgeAction::kProceed, proceed, True());
      }
    }
    if (!IsNoEdge(ignore)) {
      uint32_t ignore_state;
      if (optional) {
        ignore_state = CreateStepState(NfaStateType::kNormal);
        AddEdge(ignore_state, EdgeAction::kTake, sink, take);
        AddEdge(ignore_state, EdgeAction::kIgnore, ignore_state, ignore);
        AddStopStates(ignore_state);
      } else {
        ignore_state = singleton;
      }
      AddEdge(singleton, EdgeAction::kIgnore, ignore_state, ignore);
    }
    return singleton;
  }

  uint32_t CreateLooping(uint32_t sink) {
    EdgeCondPtr until = UntilCondition(current_);
    EdgeCondPtr inner = InnerIgnoreCondition(current_);
    bool inner_none = IsNoEdge(inner);
    EdgeCondPtr ignore = ExtendWithUntil(inner, inner_none, until, false);
    EdgeCondPtr take = ExtendWithUntil(TakeCondition(current_), false, until, true);
    uint32_t looping = CreateStepState(NfaStateType::kNormal);
    if (Greedy(current_)) {
      if (until) {
        uint32_t copy = Copy(sink);
        AddEdge(looping, EdgeAction::kProceed, copy, until);
        original_state_[sink] = copy;
      }
      AddEdge(looping, EdgeAction::kProceed, sink, until ? Not(until) : True());
      UpdateWithGreedyCondition(sink, TakeCondition(current_));
    } else {
      AddEdge(looping, EdgeAction::kProceed, sink, True());
    }
    AddEdge(looping, EdgeAction::kTake, looping, take);
    AddStopStateToLooping(looping);
    if (!IsNoEdge(ignore)) {
      uint32_t ignore_state = CreateStepState(NfaStateType::kNormal);
      AddEdge(ignore_state, EdgeAction::kTake, looping, take);
      AddEdge(ignore_state, EdgeAction::kIgnore, ignore_state, ignore);
      AddEdge(looping, EdgeAction::kIgnore, ignore_state, ignore);
      AddStopStateToLooping(ignore_state);
    }
    return looping;
  }

  [[maybe_unused]] const RuleSpec& rule_;  // unread (clang -Wunused-private-field)
  const std::vector<StepSpec>& steps_;
  std::shared_ptr<NfaProgram> program_;
  std::vector<EdgeCondPtr> where_, until_;
  std::map<std::string, bool> used_names_;
  std::map<int, uint32_t> stop_states_;
  std::map<uint32_t, uint32_t> original_state_;  // FlinkCEP originalStateMap (by state)
  int current_ = 0;
  int following_ = -1;
};

std::string CondString(const EdgeCondPtr& c, const NfaProgram& p) {
  if (!c) return "true";
  switch (c->kind) {
    case EdgeCond::Kind::kTrue: return "true";
    case EdgeCond::Kind::kLeaf: return "c" + std::to_string(c->leaf);
    case EdgeCond::Kind::kNot: return "!" + CondString(c->a, p);
    case EdgeCond::Kind::kAnd: return "(" + CondString(c->a, p) + " & " + CondString(c->b, p) + ")";
  }
  return "?";
}

}  // namespace

std::shared_ptr<const NfaProgram> CompilePattern(const RuleSpec& rule) {
  return Compiler(rule).Compile();
}

std::string NfaProgram::DebugString() const {
  std::string s;
  for (size_t i = 0; i < states.size(); ++i) {
    const NfaState& st = states[i];
    s += st.name;
    if (st.start) s += " [start]";
    if (st.type == NfaStateType::kFinal) s += " [final]";
    if (st.type == NfaStateType::kStop) s += " [stop]";
    if (st.type == NfaStateType::kPending) s += " [pending]";
    s += ":";
    for (const NfaEdge& e : st.edges) {
      s += e.action == EdgeAction::kTake ? " take" : e.action == EdgeAction::kIgnore ? " ignore" : " proceed";
      s += "(" + states[e.target].name + ", " + CondString(e.cond, *this) + ")";
    }
    s += "\n";
  }
  return s;
}

}  // namespace vigil::cep

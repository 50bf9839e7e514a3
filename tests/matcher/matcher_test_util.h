// Shared helpers for the matcher tests: run a matcher over a trace and keep
// what it reported.
#pragma once

#include <vector>

#include "matcher/matcher.h"
#include "tracegen/tracegen.h"
#include "recorder/trace.h"

namespace rrto::test {

struct Observed {
  std::vector<MatchEvent> events;  // one per op
  std::vector<MatchEvent> confirmed;
  std::vector<MatchEvent> broken;
};

inline Observed run_matcher(Matcher& m, std::span<const Op> ops) {
  Observed o;
  o.events.reserve(ops.size());
  for (const Op& op : ops) {
    const MatchEvent ev = m.feed(op);
    o.events.push_back(ev);
    if (ev.kind == MatchEventKind::Confirmed) o.confirmed.push_back(ev);
    if (ev.kind == MatchEventKind::Broken) o.broken.push_back(ev);
  }
  return o;
}

// Index of the last op of the n-th (0-based) steady iteration.
inline uint64_t end_of_iteration(const tracegen::Truth& truth, size_t n) {
  const auto& it = truth.iterations.at(n);
  return it.start + it.length - 1;
}

inline bool is_iteration_start(const tracegen::Truth& truth, uint64_t index, uint32_t workload) {
  for (const auto& it : truth.iterations) {
    if (it.start == index && it.workload == workload && it.regular) return true;
  }
  return false;
}

}  // namespace rrto::test

// Offline Operator Sequence Search over a recorded stream: runs the
// incremental matcher over every op and summarises what it found.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "matcher/matcher_config.h"
#include "matcher/template.h"
#include "recorder/op.h"

namespace rrto {

struct VariableReport {
  VariableArg arg;
  OpKind kind = OpKind::KernelLaunch;
  const KernelDef* kernel = nullptr;  // launches; points into the ops' kernel table
};

struct TemplateReport {
  TemplateId id = kNoTemplate;
  uint32_t length = 0;
  uint64_t boundary = 0;      // stream index where its first confirmed iteration starts
  uint64_t confirmed_at = 0;  // stream index of the op that confirmed it
  uint64_t ops_consumed = 0;  // ops fed when it was confirmed (confirmed_at + 1)
  uint64_t occurrences = 0;   // complete occurrences from the boundary on, the confirming ones included
  uint64_t confirming = 0;    // of those, the ones that confirmed it (confirm_repeats, from the boundary)
  // Whole copies of its ops (by structure) that end right at its boundary and
  // begin at an upload that is no boundary, since the transfer before it was
  // an upload too (set-up uploads then the first inference's input, say):
  // the same ops, but in an episode begun earlier, so no occurrences.
  uint64_t before_boundary = 0;
  uint64_t broken = 0;        // times an occurrence stopped matching
  std::vector<VariableReport> variables;
};

struct SearchResult {
  uint64_t ops = 0;
  // Ops before the first confirmed iteration: the initialisation prefix.
  // Equal to `ops` when nothing was confirmed.
  uint64_t prefix_length = 0;
  // The template that covers most ops (the iteration); 0 / absent when none.
  TemplateId iteration = kNoTemplate;
  uint32_t iteration_length = 0;
  uint64_t boundary = 0;
  uint64_t matched_ops = 0;  // ops that were part of a template occurrence
  uint64_t broken_events = 0;
  std::vector<TemplateReport> templates;  // in order of confirmation
};

SearchResult search(std::span<const Op> ops, const MatcherConfig& config = {});

}  // namespace rrto

// Tuning of the Operator Sequence Search. Every bound here caps memory: the
// matcher's footprint is fixed at construction plus its templates.
#pragma once

#include <cstdint>

#include "common/limits.h"

namespace rrto {

struct MatcherConfig {
  // Identical occurrences of an iteration needed to confirm it (at least 2).
  uint32_t confirm_repeats = 2;
  // Ops remembered for the search (rounded up to a power of two). Two
  // occurrences must fit, so no iteration longer than half of this is found.
  uint32_t history_ops = 2 * limits::kTemplateOperators;
  // Argument bytes remembered with those ops; an op whose bytes have been
  // overwritten has all of its arguments marked variable when confirmed.
  uint32_t history_arg_bytes = 4u << 20;
  // Templates kept; the least recently used one goes when a new one needs room.
  uint32_t max_templates = limits::kReplayTemplates;
  // Recent unconfirmed iterations kept as candidates for a repeat.
  uint32_t max_episodes = 64;
  // Candidates one new iteration is compared against at once.
  uint32_t max_probes = 8;
};

}  // namespace rrto

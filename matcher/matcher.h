// The Operator Sequence Search, fed one op at a time.
//
// An iteration starts at the app's input transfer: a boundary is an HtoD copy
// whose most recent transfer before it was a DtoH (outputs came back, new
// inputs go up), or the stream's first transfer. The ops from one boundary to the next form an episode, so a
// layer period inside a model is never a candidate, and a detector's mid-
// iteration DtoH without an upload after it does not split its iteration.
//
// Search: each new episode is compared op by op (structural signatures)
// against recent unconfirmed episodes that begin with the same op. When it
// reproduces one completely, that is a repeat; `confirm_repeats` identical
// occurrences confirm a template. The full-signature pass then marks the
// arguments that differ between the occurrences as variable.
//
// Steady state: at a boundary the templates whose first op matches become
// candidates; every later op is compared with the candidates' next op
// (usually one), so the work per op is constant. While two templates share a
// prefix, Matched names one of them and may name the other once they part;
// the ops so far are the same in both. An op that differs from every
// candidate is reported Broken, and nothing is matched again until the next
// boundary.
//
// Not thread-safe; one matcher per op stream.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "matcher/matcher_config.h"
#include "matcher/event.h"
#include "matcher/history.h"
#include "matcher/template.h"
#include "recorder/op.h"

namespace rrto {

class Matcher {
 public:
  explicit Matcher(const MatcherConfig& config = {});

  MatchEvent feed(const Op& op);

  uint64_t ops_fed() const { return history_.count(); }
  // The op fed last is an iteration boundary: an upload whose last transfer
  // before it was a copy back, or the stream's first transfer.
  bool fed_boundary() const { return in_episode_ && episode_start_ + 1 == history_.count(); }
  size_t template_count() const { return templates_.size(); }
  const Template& template_at(size_t i) const { return *templates_[i]; }
  const Template* find_template(TemplateId id) const;
  const MatcherConfig& config() const { return config_; }

 private:
  // A closed episode kept as a candidate for repeats.
  struct Episode {
    uint64_t start = 0;
    uint64_t first_start = 0;  // where the first of its identical run began
    uint64_t first_sig = 0;
    uint32_t length = 0;  // 0: free slot
    uint32_t repeats = 0;
  };
  // The current episode being compared with episodes_[slot].
  struct Probe {
    uint32_t slot;
    uint64_t source;
    uint32_t length;
  };

  MatchEvent on_boundary(const Op& op, uint64_t n);
  MatchEvent continue_occurrence(const Op& op, uint64_t n);
  void close_episode(uint64_t n, bool complete_occurrence);
  void start_probes(const Op& op, uint64_t n);
  void advance_probes(const Op& op, uint64_t n, MatchEvent& ev);
  MatchEvent confirm(const Episode& repeated, uint64_t n);
  bool occurrence_complete() const;
  Template* primary() const;
  MatchEvent broken(Template* t, uint32_t position, uint64_t n);
  void make_room_for_template();

  MatcherConfig config_;
  History history_;
  OpKind last_transfer_ = OpKind::ContextSynchronize;  // no transfer yet

  std::vector<Episode> episodes_;
  uint32_t next_episode_slot_ = 0;
  bool in_episode_ = false;
  uint64_t episode_start_ = 0;
  std::vector<Probe> probes_;
  // Set when the current episode reproduced an episode without confirming.
  bool reproduced_ = false;
  uint32_t reproduced_slot_ = 0;
  uint32_t reproduced_repeats_ = 0;

  std::vector<std::unique_ptr<Template>> templates_;
  TemplateId next_id_ = 1;
  // Templates the current occurrence still agrees with, all at position pos_.
  std::vector<Template*> live_;
  uint32_t pos_ = 0;
};

}  // namespace rrto

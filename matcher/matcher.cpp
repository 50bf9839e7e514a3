#include "matcher/matcher.h"

#include <algorithm>

namespace rrto {

const char* match_event_name(MatchEventKind kind) {
  switch (kind) {
    case MatchEventKind::None: return "none";
    case MatchEventKind::Confirmed: return "confirmed";
    case MatchEventKind::Matched: return "matched";
    case MatchEventKind::Broken: return "broken";
  }
  return "unknown";
}

namespace {

MatcherConfig sanitized(MatcherConfig c) {
  c.confirm_repeats = std::max(c.confirm_repeats, 2u);
  c.max_templates = std::max(c.max_templates, 1u);
  c.max_episodes = std::max(c.max_episodes, 1u);
  c.max_probes = std::max(c.max_probes, 1u);
  return c;
}

}  // namespace

Matcher::Matcher(const MatcherConfig& config)
    : config_(sanitized(config)), history_(config_.history_ops, config_.history_arg_bytes) {
  episodes_.resize(config_.max_episodes);
  probes_.reserve(config_.max_probes);
  live_.reserve(config_.max_templates);
}

const Template* Matcher::find_template(TemplateId id) const {
  for (const auto& t : templates_) {
    if (t->id() == id) return t.get();
  }
  return nullptr;
}

MatchEvent Matcher::feed(const Op& op) {
  const uint64_t n = history_.count();
  history_.push(op);
  bool boundary = false;
  if (op.kind == OpKind::MemcpyHtoD) {
    boundary = last_transfer_ != OpKind::MemcpyHtoD;
    last_transfer_ = op.kind;
  } else if (op.kind == OpKind::MemcpyDtoH) {
    last_transfer_ = op.kind;
  }
  MatchEvent ev = boundary ? on_boundary(op, n) : continue_occurrence(op, n);
  if (!probes_.empty()) advance_probes(op, n, ev);
  return ev;
}

bool Matcher::occurrence_complete() const {
  for (const Template* t : live_) {
    if (t->length() == pos_) return true;
  }
  return false;
}

// The template an event reports: one that is complete at pos_ if any, since
// that is the occurrence the caller can act on.
Template* Matcher::primary() const {
  if (live_.empty()) return nullptr;
  for (Template* t : live_) {
    if (t->length() == pos_) return t;
  }
  return live_.front();
}

MatchEvent Matcher::broken(Template* t, uint32_t position, uint64_t n) {
  ++t->broken_;
  live_.clear();
  MatchEvent ev;
  ev.kind = MatchEventKind::Broken;
  ev.tmpl = t->id();
  ev.position = position;
  ev.op_index = n;
  return ev;
}

MatchEvent Matcher::on_boundary(const Op& op, uint64_t n) {
  const bool complete = occurrence_complete();
  Template* previous = primary();
  if (in_episode_) close_episode(n, complete);
  in_episode_ = true;
  episode_start_ = n;

  MatchEvent ev;
  ev.op_index = n;
  if (previous && !complete) {
    // An occurrence ended early. This op is reported as the break, so no
    // occurrence starts with it; tracking resumes at the next boundary.
    ev = broken(previous, pos_, n);
  } else {
    live_.clear();
    for (const auto& t : templates_) {
      if (t->op(0).structural_sig == op.structural_sig) live_.push_back(t.get());
    }
    pos_ = 0;
    if (!live_.empty()) {
      ev = continue_occurrence(op, n);
    } else if (previous) {
      ev = broken(previous, previous->length(), n);
    }
  }
  start_probes(op, n);
  return ev;
}

MatchEvent Matcher::continue_occurrence(const Op& op, uint64_t n) {
  MatchEvent ev;
  ev.op_index = n;
  if (live_.empty()) return ev;
  Template* before = primary();
  size_t kept = 0;
  for (Template* t : live_) {
    if (pos_ < t->length() && t->op(pos_).structural_sig == op.structural_sig) live_[kept++] = t;
  }
  live_.resize(kept);
  if (kept == 0) return broken(before, pos_, n);

  Template* reported = live_.front();
  for (Template* t : live_) {
    if (pos_ + 1 == t->length()) reported = t;
  }
  ev.kind = MatchEventKind::Matched;
  ev.tmpl = reported->id();
  ev.position = pos_;
  for (Template* t : live_) {
    t->last_used_ = n;
    if (t->op(pos_).full_sig != op.full_sig) {
      std::array<uint8_t, 16> scratch;
      const bool widened = t->absorb(pos_, op_operands(op, scratch));
      if (t == reported) {
        ev.args_changed = true;
        ev.widened = widened;
      }
    }
    if (pos_ + 1 == t->length()) {
      ++t->occurrences_;
      if (t == reported) ev.iteration_end = true;
    }
  }
  ++pos_;
  return ev;
}

void Matcher::close_episode(uint64_t n, bool complete_occurrence) {
  const uint64_t length = n - episode_start_;
  const bool repeat = reproduced_ && episodes_[reproduced_slot_].length == length;
  reproduced_ = false;
  // An occurrence of a template needs no candidate; one too long to be seen
  // twice in the history could never be confirmed.
  if (complete_occurrence || length > history_.capacity() / 2) return;

  Episode e;
  e.start = episode_start_;
  e.first_start = episode_start_;
  e.first_sig = history_.at(episode_start_).structural_sig;
  e.length = static_cast<uint32_t>(length);
  e.repeats = 1;
  if (repeat) {
    // The same episode again: one entry for the run, now the newest.
    Episode& old = episodes_[reproduced_slot_];
    e.first_start = old.first_start;
    e.repeats = reproduced_repeats_;
    old.length = 0;
  }
  episodes_[next_episode_slot_] = e;
  next_episode_slot_ = (next_episode_slot_ + 1) % episodes_.size();
}

void Matcher::start_probes(const Op& op, uint64_t n) {
  probes_.clear();
  const auto count = static_cast<uint32_t>(episodes_.size());
  for (uint32_t i = 1; i <= count && probes_.size() < config_.max_probes; ++i) {
    const uint32_t slot = (next_episode_slot_ + count - i) % count;  // newest first
    const Episode& e = episodes_[slot];
    if (e.length == 0 || e.first_sig != op.structural_sig) continue;
    // The older occurrence must still be in the history when this one completes.
    if (n + e.length - e.start > history_.capacity()) continue;
    probes_.push_back({slot, e.start, e.length});
  }
}

void Matcher::advance_probes(const Op& op, uint64_t n, MatchEvent& ev) {
  const uint64_t k = n - episode_start_;
  size_t kept = 0;
  bool finished = false;
  Probe done{};
  for (const Probe& p : probes_) {
    if (history_.at(p.source + k).structural_sig != op.structural_sig) continue;
    if (k + 1 < p.length) {
      probes_[kept++] = p;
    } else if (!finished) {
      finished = true;
      done = p;
    }
  }
  probes_.resize(kept);
  if (!finished) return;

  const Episode repeated = episodes_[done.slot];
  const uint32_t repeats = repeated.repeats + 1;
  if (repeats < config_.confirm_repeats) {
    reproduced_ = true;
    reproduced_slot_ = done.slot;
    reproduced_repeats_ = repeats;
    return;
  }
  // Its occurrences belong to a template from now on.
  episodes_[done.slot].length = 0;
  probes_.clear();
  // Already a template (confirmed from another run of the same episode).
  if (occurrence_complete()) return;
  ev = confirm(repeated, n);
}

MatchEvent Matcher::confirm(const Episode& repeated, uint64_t n) {
  make_room_for_template();
  auto owned = Template::build(next_id_++, history_, repeated.start, episode_start_, repeated.length);
  Template* t = owned.get();
  t->boundary_ = repeated.first_start;
  t->confirmed_at_ = n;
  t->occurrences_ = repeated.repeats + 1;
  t->last_used_ = n;
  templates_.push_back(std::move(owned));
  // The current episode is the confirming occurrence, complete at this op.
  if (live_.empty()) pos_ = t->length();
  live_.push_back(t);

  MatchEvent ev;
  ev.kind = MatchEventKind::Confirmed;
  ev.tmpl = t->id();
  ev.position = t->length() - 1;
  ev.op_index = n;
  ev.iteration_end = true;
  return ev;
}

void Matcher::make_room_for_template() {
  if (templates_.size() < config_.max_templates) return;
  auto lru = std::min_element(templates_.begin(), templates_.end(),
                              [](const auto& a, const auto& b) { return a->last_used_ < b->last_used_; });
  std::erase(live_, lru->get());
  templates_.erase(lru);
}

}  // namespace rrto

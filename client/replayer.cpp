#include "client/replayer.h"

#include <fmt/format.h>

#include <algorithm>

#include "client/stats.h"
#include "common/limits.h"
#include "common/log.h"

namespace rrto::client {

namespace {

// Iterations a template must be followed in a row before the first
// speculation, and the most a speculation that was not followed makes the
// next one wait (each rollback doubles the wait, a hit resets it).
constexpr uint64_t kSpeculateAfter = 2;
constexpr uint64_t kMostSpeculateAfter = 64;
// Continuations in a row whose saving took longer than a round trip, after
// which a template is not speculated any more.
constexpr uint32_t kCostlyInARow = 4;

}  // namespace

Replayer::Replayer() = default;
Replayer::~Replayer() = default;

void Replayer::enable() {
  enabled_ = true;
  matcher_ = std::make_unique<Matcher>();
  log_.resize(limits::kTemplateOperators);
}

void Replayer::observe() {
  enable();
  observing_ = true;
}

Replayer::Logged& Replayer::next_slot(const Op& op) {
  Logged& slot = log_[logged_++ % log_.size()];
  slot.structural_sig = op.structural_sig;
  slot.full_sig = op.full_sig;
  return slot;
}

Replayer::ClientTemplate* Replayer::template_of(TemplateId id) {
  // Within a stretch the template is known: no lookup per operator.
  if (segment_.active && segment_.tmpl->id == id) return segment_.tmpl;
  auto it = templates_.find(id);
  return it == templates_.end() ? nullptr : it->second.get();
}

void Replayer::follow(const Op& op, OutgoingBatch& queue, bool served) {
  const MatchEvent ev = matcher_->feed(op);
  switch (ev.kind) {
    case MatchEventKind::Confirmed:
      if (segment_.active) abandon(&Fallbacks::interleaved);
      if (speculation_.active) end_speculation(queue);  // the new template may retire its template
      register_template(ev.tmpl);
      return;
    case MatchEventKind::Matched:
      if (ev.iteration_end) steady_state().iteration_ended();
      break;
    case MatchEventKind::Broken:
      if (segment_.active) abandon(&Fallbacks::broken);
      return;
    case MatchEventKind::None:
      segment_.active = false;
      return;
  }
  ClientTemplate* t = template_of(ev.tmpl);
  if (!t) {
    segment_.active = false;
    return;
  }
  if (served) {
    if (ev.iteration_end) ++t->iterations, ++t->followed;
    return;
  }
  if (!segment_.active || segment_.tmpl != t || ev.position != segment_.next)
    start_segment(*t, ev.position, queue.mark());
  // The server runs the registered occurrence: compare with it, not with
  // the matcher's reference.
  if (op.structural_sig != t->structural_sig[ev.position]) return abandon(&Fallbacks::broken);
  if (op.full_sig != t->full_sig[ev.position]) {
    if (op.kind != OpKind::KernelLaunch) return abandon(&Fallbacks::operands);
    ByteWriter w(segment_.deltas);
    w.put<uint32_t>(ev.position);
    w.put_blob(op.arg_bytes());
  }
  segment_.next = ev.position + 1;
  if (ev.iteration_end) ++t->iterations, ++t->followed;
}

void Replayer::start_segment(ClientTemplate& t, uint32_t position, const QueueMark& queued) {
  segment_.active = true;
  segment_.tmpl = &t;
  segment_.first = segment_.next = position;
  segment_.start = queued;
  segment_.deltas.clear();
}

void Replayer::abandon(uint64_t Fallbacks::*reason) {
  if (segment_.tmpl) {
    ++(segment_.tmpl->fallbacks.*reason);
    segment_.tmpl->followed = 0;
  }
  segment_.active = false;
}

void Replayer::register_template(TemplateId id) {
  const Template* found = matcher_->find_template(id);
  if (!found || observing_) return;
  const uint32_t length = found->length();
  if (length > log_.size() || length > logged_) {
    RRTO_WARN("client", "template {} has {} operators, more than replay keeps ({}); not replayed", id, length,
              log_.size());
    return;
  }
  if (templates_.size() >= limits::kReplayTemplates) retire_oldest();
  auto t = std::make_unique<ClientTemplate>();
  t->id = id;
  t->speculate_after = kSpeculateAfter;
  proto::BatchWriter calls;
  for (uint64_t i = logged_ - length; i < logged_; ++i) {
    const Logged& entry = log_[i % log_.size()];
    t->structural_sig.push_back(entry.structural_sig);
    t->full_sig.push_back(entry.full_sig);
    t->op.push_back(proto::call_op(entry.call));
    const auto* copy_back = std::get_if<proto::MemcpyDtoH>(&entry.call);
    t->copy_bytes.push_back(copy_back ? copy_back->size : 0);
    std::visit([&calls](const auto& call) { calls.add(call); }, entry.call);
  }
  proto::TemplateRegister reg{.tmpl = id, .calls = calls.bytes()};
  control_.add(reg);  // queued before the operator that confirmed it
  RRTO_INFO("client", "replaying template {}: {} operators per iteration", id, length);
  templates_[id] = std::move(t);
}

// Keeps the server's store within its bounds: the oldest template goes.
void Replayer::retire_oldest() {
  auto oldest = std::min_element(templates_.begin(), templates_.end(),
                                 [](const auto& a, const auto& b) { return a.first < b.first; });
  proto::TemplateDrop drop{.tmpl = oldest->first};
  control_.add(drop);
  retired_.push_back(std::move(oldest->second));
  templates_.erase(oldest);
}

void Replayer::invalidate(OutgoingBatch& queue) {
  if (!enabled_) return;
  if (speculation_.active) end_speculation(queue);
  for (auto& [id, t] : templates_) retired_.push_back(std::move(t));
  templates_.clear();
  segment_ = {};
  matcher_ = std::make_unique<Matcher>();
}

void Replayer::interrupt(OutgoingBatch& queue) {
  if (!enabled_) return;
  if (speculation_.active) end_speculation(queue);
  if (segment_.tmpl) segment_.tmpl->followed = 0;
  segment_.active = false;
}

void Replayer::before_send(OutgoingBatch& batch) {
  sent_ = nullptr;
  Segment& s = segment_;
  if (!s.active) return;
  s.active = false;  // whatever follows the send starts a new stretch
  const QueueMark now = batch.mark();
  if (now.calls <= s.start.calls) return;  // nothing of the stretch is queued
  if (now.calls - s.start.calls != now.operators - s.start.operators) {
    ++s.tmpl->fallbacks.interleaved;
    return;
  }
  proto::ReplaySegment replay{.tmpl = s.tmpl->id,
                              .first = s.first,
                              .last = s.next - 1,
                              .input_offset = s.start.bulk_bytes,
                              .deltas = s.deltas};
  asked_to_ = 0;
  if (speculation_mode_ != SpeculationMode::Off && s.tmpl->speculates && s.tmpl->followed >= s.tmpl->speculate_after) {
    const uint32_t last = continuation_end(*s.tmpl, s.next);
    if (last >= s.next) {
      replay.speculate_to = asked_to_ = last;
      asked_from_ = s.next;
    }
  }
  batch.replace_since(s.start, replay);
  ++s.tmpl->segments;
  s.tmpl->ops_replayed += s.next - s.first;
  sent_ = s.tmpl;
}

void Replayer::after_send(const Sent& sent) {
  fastest_exchange_ns_ = std::min(fastest_exchange_ns_, sent.wall_ns);
  if (!sent_) return;
  sent_->bytes_up += sent.bytes_up;
  sent_->bytes_down += sent.bytes_down;
  if (asked_to_) take_speculation_result(sent.result);
  sent_ = nullptr;
}

// ------------------------------------------------------------ speculation

uint32_t Replayer::continuation_end(const ClientTemplate& t, uint32_t from) const {
  // Up to the next upload (new inputs) or event, and only as far as its
  // last copy to the host: a continuation saves a round trip only by
  // bringing back outputs.
  uint32_t last = from - 1;
  uint64_t outputs = 0;
  for (uint32_t p = from; p < t.op.size(); ++p) {
    if (!proto::runs_ahead(t.op[p])) break;
    if (t.op[p] != proto::CallOp::MemcpyDtoH) continue;
    outputs += t.copy_bytes[p];
    if (outputs > limits::kSpeculationOutputBytes) break;
    last = p;
  }
  return last;
}

void Replayer::take_speculation_result(const std::span<const uint8_t>* result) {
  ClientTemplate& t = *sent_;
  const uint32_t first = asked_from_, last = asked_to_;
  asked_to_ = 0;
  if (!result) return;  // the batch failed: no continuation ran
  proto::ReplaySegmentResult answer;
  if (!proto::decode_fields(*result, answer)) answer.verdict = proto::kSpecFailed;
  t.verdict = answer.verdict;
  if (answer.verdict == proto::kSpeculated) {
    begin_speculation(t, first, last, answer.outputs);
    // A continuation pays only if saving costs less than the round trip it
    // saves: judged on a few in a row, as the first saves touch cold memory.
    t.costly = answer.save_ns > fastest_exchange_ns_ ? t.costly + 1 : 0;
    if (t.costly < kCostlyInARow || speculation_mode_ == SpeculationMode::Always) return;
    t.verdict = proto::kSpecCostsMore;
  } else {
    ++t.speculation.declined;
    t.followed = 0;
    // Only a failed operator may go differently next time.
    if (answer.verdict == proto::kSpecFailed) return;
  }
  t.speculates = false;
  RRTO_INFO("client", "template {} is not speculated: {}", t.id, proto::speculation_verdict_text(t.verdict));
}

void Replayer::begin_speculation(ClientTemplate& t, uint32_t first, uint32_t last, std::span<const uint8_t> outputs) {
  Speculation& sp = speculation_;
  sp.tmpl = &t;
  sp.first = sp.next = first;
  sp.end = last + 1;
  sp.offsets.clear();
  size_t at = 0;
  for (uint32_t p = first; p <= last; ++p) {
    sp.offsets.push_back(at);
    at += t.copy_bytes[p];
  }
  sp.outputs.assign(outputs.begin(), outputs.end());
  sp.active = true;
  ++t.speculation.continuations;
  if (at != outputs.size()) {
    RRTO_WARN("client", "continuation of template {}: {} bytes of outputs, expected {}; not used", t.id,
              outputs.size(), at);
    sp.active = false;
    proto::SpeculationEnd end{.kept = 0};
    control_.add(end);
  }
}

bool Replayer::serve(const Op& op, OutgoingBatch& queue) {
  Speculation& sp = speculation_;
  ClientTemplate& t = *sp.tmpl;
  if (op.structural_sig != t.structural_sig[sp.next] || op.full_sig != t.full_sig[sp.next]) {
    end_speculation(queue);
    return false;
  }
  served_output_ = sp.outputs.data() + sp.offsets[sp.next - sp.first];
  ++sp.next;
  ++t.speculation.ops_served;
  if (sp.next == sp.end) end_speculation(queue);
  return true;
}

void Replayer::end_speculation(OutgoingBatch& queue) {
  Speculation& sp = speculation_;
  ClientTemplate& t = *sp.tmpl;
  sp.active = false;
  const uint32_t kept = sp.next - sp.first;
  if (sp.next == sp.end) {
    ++t.speculation.hits;
    t.speculate_after = kSpeculateAfter;
  } else {
    ++t.speculation.rollbacks;
    t.followed = 0;
    t.speculate_after = std::min(2 * t.speculate_after, kMostSpeculateAfter);
  }
  end_call_.clear();
  proto::SpeculationEnd end{.kept = kept};
  end_call_.add(end);
  queue.defer_encoded(end_call_);
}

std::string Replayer::stats_json() const {
  std::string out = R"("templates":[)";
  const char* sep = "";
  auto print = [&](const ClientTemplate* t) {
    const double iterations = t->iterations ? static_cast<double>(t->iterations) : 1.0;
    out += fmt::format(
        R"({}{{"id":{},"length":{},"iterations":{},"replayed_segments":{},"replayed_ops":{},)"
        R"("round_trips_per_iteration":{:.3f},"bytes_up_per_iteration":{:.1f},"bytes_down_per_iteration":{:.1f},)"
        R"("fallbacks":{{"broken":{},"operands":{},"interleaved":{}}},)"
        R"("speculation":{{"state":"{}","continuations":{},"hits":{},"rollbacks":{},"served_ops":{},"declined":{}}}}})",
        sep, t->id, t->structural_sig.size(), t->iterations, t->segments, t->ops_replayed, t->segments / iterations,
        t->bytes_up / iterations, t->bytes_down / iterations, t->fallbacks.broken, t->fallbacks.operands,
        t->fallbacks.interleaved,
        t->speculates ? std::string("on") : fmt::format("off: {}", proto::speculation_verdict_text(t->verdict)),
        t->speculation.continuations, t->speculation.hits, t->speculation.rollbacks, t->speculation.ops_served,
        t->speculation.declined);
    sep = ",";
  };
  for (const auto& t : retired_) print(t.get());
  for (const auto& [id, t] : templates_) print(t.get());
  return out + "]";
}

}  // namespace rrto::client

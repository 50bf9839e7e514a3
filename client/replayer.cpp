#include "client/replayer.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/limits.h"
#include "common/log.h"

namespace rrto::client {

Replayer::Replayer() = default;
Replayer::~Replayer() = default;

void Replayer::enable() {
  enabled_ = true;
  matcher_ = std::make_unique<Matcher>();
  log_.resize(limits::kTemplateOperators);
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

void Replayer::follow(const Op& op, const QueueMark& queued) {
  const MatchEvent ev = matcher_->feed(op);
  switch (ev.kind) {
    case MatchEventKind::Confirmed:
      if (segment_.active) abandon(&Fallbacks::interleaved);
      register_template(ev.tmpl);
      return;
    case MatchEventKind::Matched:
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
  if (!segment_.active || segment_.tmpl != t || ev.position != segment_.next) start_segment(*t, ev.position, queued);
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
  if (ev.iteration_end) ++t->iterations;
}

void Replayer::start_segment(ClientTemplate& t, uint32_t position, const QueueMark& queued) {
  segment_.active = true;
  segment_.tmpl = &t;
  segment_.first = segment_.next = position;
  segment_.start = queued;
  segment_.deltas.clear();
}

void Replayer::abandon(uint64_t Fallbacks::*reason) {
  if (segment_.tmpl) ++(segment_.tmpl->fallbacks.*reason);
  segment_.active = false;
}

void Replayer::register_template(TemplateId id) {
  const Template* found = matcher_->find_template(id);
  if (!found) return;
  const uint32_t length = found->length();
  if (length > log_.size() || length > logged_) {
    RRTO_WARN("client", "template {} has {} operators, more than replay keeps ({}); not replayed", id, length,
              log_.size());
    return;
  }
  if (templates_.size() >= limits::kReplayTemplates) retire_oldest();
  auto t = std::make_unique<ClientTemplate>();
  t->id = id;
  proto::BatchWriter calls;
  for (uint64_t i = logged_ - length; i < logged_; ++i) {
    const Logged& entry = log_[i % log_.size()];
    t->structural_sig.push_back(entry.structural_sig);
    t->full_sig.push_back(entry.full_sig);
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

void Replayer::invalidate() {
  if (!enabled_) return;
  for (auto& [id, t] : templates_) retired_.push_back(std::move(t));
  templates_.clear();
  segment_ = {};
  matcher_ = std::make_unique<Matcher>();
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
  batch.replace_since(s.start, replay);
  ++s.tmpl->segments;
  s.tmpl->ops_replayed += s.next - s.first;
  sent_ = s.tmpl;
}

void Replayer::after_send(uint64_t bytes_up, uint64_t bytes_down) {
  if (!sent_) return;
  sent_->bytes_up += bytes_up;
  sent_->bytes_down += bytes_down;
  sent_ = nullptr;
}

std::string Replayer::stats_json() const {
  std::string out = R"("templates":[)";
  const char* sep = "";
  auto print = [&](const ClientTemplate* t) {
    const double iterations = t->iterations ? static_cast<double>(t->iterations) : 1.0;
    out += fmt::format(
        R"({}{{"id":{},"length":{},"iterations":{},"replayed_segments":{},"replayed_ops":{},)"
        R"("round_trips_per_iteration":{:.3f},"bytes_up_per_iteration":{:.1f},"bytes_down_per_iteration":{:.1f},)"
        R"("fallbacks":{{"broken":{},"operands":{},"interleaved":{}}}}})",
        sep, t->id, t->structural_sig.size(), t->iterations, t->segments, t->ops_replayed, t->segments / iterations,
        t->bytes_up / iterations, t->bytes_down / iterations, t->fallbacks.broken, t->fallbacks.operands,
        t->fallbacks.interleaved);
    sep = ",";
  };
  for (const auto& t : retired_) print(t.get());
  for (const auto& [id, t] : templates_) print(t.get());
  return out + "]";
}

}  // namespace rrto::client

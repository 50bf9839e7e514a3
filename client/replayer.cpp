#include "client/replayer.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/log.h"

namespace rrto::client {

namespace {

// Operators remembered for registering a template: its longest length.
constexpr size_t kLogCapacity = 8192;
// Templates registered with the server at a time (its store takes more).
constexpr size_t kMaxTemplates = 32;

void encode_operator(proto::BatchWriter& out, const Op& op, uint64_t function, std::span<const uint8_t> args) {
  switch (op.kind) {
    case OpKind::KernelLaunch: {
      proto::Launch c{.function = function,
                      .grid = {op.grid.x, op.grid.y, op.grid.z},
                      .block = {op.block.x, op.block.y, op.block.z},
                      .shared_mem = op.shared_mem,
                      .stream = op.stream,
                      .params = args};
      out.add(c);
      break;
    }
    case OpKind::MemcpyHtoD: {
      proto::MemcpyHtoD c{.dst = op.dst, .size = op.bytes, .bulk_offset = 0, .stream = op.stream};
      out.add(c);
      break;
    }
    case OpKind::MemcpyDtoH: {
      proto::MemcpyDtoH c{.src = op.src, .size = op.bytes, .stream = op.stream};
      out.add(c);
      break;
    }
    case OpKind::MemcpyDtoD: {
      proto::MemcpyDtoD c{.dst = op.dst, .src = op.src, .size = op.bytes, .stream = op.stream};
      out.add(c);
      break;
    }
    case OpKind::Memset: {
      proto::Memset c{.dst = op.dst,
                      .value = static_cast<uint32_t>(op.value),
                      .element_size = op.elem_size,
                      .count = op.elem_size ? op.bytes / op.elem_size : 0,
                      .stream = op.stream};
      out.add(c);
      break;
    }
    case OpKind::EventRecord: {
      proto::EventRecord c{.event = op.event, .stream = op.stream};
      out.add(c);
      break;
    }
    case OpKind::StreamWaitEvent: {
      proto::StreamWaitEvent c{.stream = op.stream, .event = op.event, .flags = 0};
      out.add(c);
      break;
    }
    case OpKind::StreamSynchronize: {
      proto::StreamSynchronize c{.stream = op.stream};
      out.add(c);
      break;
    }
    case OpKind::ContextSynchronize: {
      proto::CtxSynchronize c;
      out.add(c);
      break;
    }
  }
}

}  // namespace

Replayer::Replayer(Remote& remote) : remote_(remote) {}
Replayer::~Replayer() = default;

void Replayer::enable() {
  enabled_ = true;
  matcher_ = std::make_unique<Matcher>();
  log_.resize(kLogCapacity);
  remote_.set_rewriter(this);
}

void Replayer::log(const Op& op, uint64_t function) {
  Logged& slot = log_[logged_++ % log_.size()];
  slot.op = op;
  slot.function = function;
  slot.args.assign(op.args, op.args + op.args_size);  // reuses the slot's capacity
  slot.op.args = slot.args.data();
}

void Replayer::on_op(const Op& op, uint64_t function) {
  if (!enabled_) return;
  const MatchEvent ev = matcher_->feed(op);
  log(op, function);
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
  // Within a stretch the template is known: no lookup per operator.
  ClientTemplate* found = segment_.active && segment_.tmpl->id == ev.tmpl ? segment_.tmpl : nullptr;
  if (!found) {
    auto it = templates_.find(ev.tmpl);
    if (it == templates_.end()) {
      segment_.active = false;
      return;
    }
    found = it->second.get();
  }
  ClientTemplate& t = *found;
  if (!segment_.active || segment_.tmpl != &t || ev.position != segment_.next) start_segment(t, ev.position);
  // The server runs the registered occurrence: compare with it, not with
  // the matcher's reference.
  if (op.structural_sig != t.structural_sig[ev.position]) return abandon(&Fallbacks::broken);
  if (op.full_sig != t.full_sig[ev.position]) {
    if (op.kind != OpKind::KernelLaunch) return abandon(&Fallbacks::operands);
    ByteWriter w(segment_.deltas);
    w.put<uint32_t>(ev.position);
    w.put_blob(op.arg_bytes());
  }
  segment_.next = ev.position + 1;
  if (ev.iteration_end) ++t.iterations;
}

void Replayer::start_segment(ClientTemplate& t, uint32_t position) {
  segment_.active = true;
  segment_.tmpl = &t;
  segment_.first = segment_.next = position;
  segment_.batch_count = remote_.batch_count();
  segment_.batch_size = remote_.batch_size();
  segment_.bulk_size = remote_.bulk_size();
  segment_.operator_calls = remote_.operator_calls();
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
  // Keep the server's store within its bounds: the oldest template goes.
  if (templates_.size() >= kMaxTemplates) {
    auto oldest = std::min_element(templates_.begin(), templates_.end(),
                                   [](const auto& a, const auto& b) { return a.first < b.first; });
    proto::TemplateDrop drop{.tmpl = oldest->first};
    remote_.defer(drop);
    retired_.push_back(std::move(oldest->second));
    templates_.erase(oldest);
  }
  auto t = std::make_unique<ClientTemplate>();
  t->id = id;
  proto::BatchWriter calls;
  for (uint64_t i = logged_ - length; i < logged_; ++i) {
    const Logged& entry = log_[i % log_.size()];
    t->structural_sig.push_back(entry.op.structural_sig);
    t->full_sig.push_back(entry.op.full_sig);
    encode_operator(calls, entry.op, entry.function, entry.args);
  }
  proto::TemplateRegister reg{.tmpl = id, .calls = calls.bytes()};
  remote_.defer(reg);  // travels with the next batch
  RRTO_INFO("client", "replaying template {}: {} operators per iteration", id, length);
  templates_[id] = std::move(t);
}

void Replayer::invalidate() {
  if (!enabled_) return;
  for (auto& [id, t] : templates_) retired_.push_back(std::move(t));
  templates_.clear();
  segment_ = {};
  matcher_ = std::make_unique<Matcher>();
}

void Replayer::before_send(proto::BatchWriter& batch) {
  sent_ = nullptr;
  Segment& s = segment_;
  if (!s.active) return;
  s.active = false;  // whatever follows the send starts a new stretch
  if (batch.count() <= s.batch_count) return;  // nothing of the stretch is queued
  const uint32_t calls = batch.count() - s.batch_count;
  if (calls != remote_.operator_calls() - s.operator_calls) {
    ++s.tmpl->fallbacks.interleaved;
    return;
  }
  batch.truncate(s.batch_count, s.batch_size);
  proto::ReplaySegment replay{.tmpl = s.tmpl->id,
                              .first = s.first,
                              .last = s.next - 1,
                              .input_offset = s.bulk_size,
                              .deltas = s.deltas};
  batch.add(replay);
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

#include "server/metrics.h"

namespace rrto::server {

std::string_view refusal_name(Refusal refusal) {
  switch (refusal) {
    case Refusal::Auth: return "auth";
    case Refusal::Full: return "full";
    case Refusal::Version: return "version";
    case Refusal::NoDevice: return "no_device";
  }
  return "unknown";
}

Metrics::Metrics(size_t device_count)
    : device_count_(device_count), devices_(std::make_unique<DeviceCounters[]>(device_count)) {}

void Metrics::session_admitted(size_t index) {
  add(sessions_admitted_, 1);
  if (DeviceCounters* d = device(index)) add(d->sessions, 1);
}

void Metrics::session_ended(size_t index) {
  add(sessions_ended_, 1);
  if (DeviceCounters* d = device(index)) add(d->sessions, ~uint64_t{0});  // minus one, wrapping
}

void Metrics::session_moved(size_t from, size_t to, uint64_t memory_bytes) {
  if (DeviceCounters* d = device(from)) add(d->sessions, ~uint64_t{0});
  if (DeviceCounters* d = device(to)) add(d->sessions, 1);
  add_memory(from, -static_cast<int64_t>(memory_bytes));
  add_memory(to, static_cast<int64_t>(memory_bytes));
}

void Metrics::received(uint64_t bytes) {
  add(bytes_in_, bytes);
  add(messages_in_, 1);
}

void Metrics::sent(uint64_t bytes) {
  add(bytes_out_, bytes);
  add(messages_out_, 1);
}

void Metrics::add_memory(size_t index, int64_t delta_bytes) {
  // Unsigned wrap-around adds a negative delta.
  if (DeviceCounters* d = device(index)) add(d->memory_bytes, static_cast<uint64_t>(delta_bytes));
}

void Metrics::add_busy(size_t index, uint64_t ns) {
  if (DeviceCounters* d = device(index)) add(d->busy_ns, ns);
}

void Metrics::set_queue_depth(size_t index, uint64_t batches) {
  if (DeviceCounters* d = device(index)) store(d->queue_depth, batches);
}

void Metrics::batch_ran(size_t index, uint64_t replays, bool inference) {
  DeviceCounters* d = device(index);
  if (!d) return;
  add(d->batches, 1);
  add(d->replays, replays);
  if (inference) add(d->inferences, 1);
}

MetricValues Metrics::read() const {
  MetricValues v;
  v.connections = load(connections_);
  v.sessions_admitted = load(sessions_admitted_);
  v.sessions_ended = load(sessions_ended_);
  for (size_t i = 0; i < kRefusalKinds; ++i) v.refusals[i] = load(refusals_[i]);
  v.protocol_errors = load(protocol_errors_);
  v.bytes_in = load(bytes_in_);
  v.messages_in = load(messages_in_);
  v.bytes_out = load(bytes_out_);
  v.messages_out = load(messages_out_);
  v.devices.reserve(device_count_);
  for (size_t i = 0; i < device_count_; ++i) v.devices.push_back(read_device(i));
  return v;
}

DeviceMetricValues Metrics::read_device(size_t index) const {
  if (index >= device_count_) return {};
  const DeviceCounters& d = devices_[index];
  return {.sessions = load(d.sessions),
          .memory_bytes = load(d.memory_bytes),
          .busy_ns = load(d.busy_ns),
          .queue_depth = load(d.queue_depth),
          .batches = load(d.batches),
          .replays = load(d.replays),
          .inferences = load(d.inferences)};
}

}  // namespace rrto::server

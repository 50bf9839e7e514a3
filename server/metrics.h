// The server's counters for operators: written by one thread, the transport
// thread (through StatusRecorder), read by any (the status endpoint,
// server/status/, and the scheduler). One writer lets an update be a plain
// relaxed load and store, no read-modify-write. Each value is exact on its
// own; values read together are not one consistent instant.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace rrto::server {

// Why a Hello was refused.
enum class Refusal : uint8_t { Auth, Full, Version, NoDevice };
inline constexpr size_t kRefusalKinds = 4;
// "auth", "full", "version", "no_device": the label values of the metrics.
std::string_view refusal_name(Refusal refusal);

struct DeviceMetricValues {
  uint64_t sessions = 0;      // sessions placed on it now
  uint64_t memory_bytes = 0;  // allocated by those sessions
  uint64_t busy_ns = 0;       // time spent running their work
  uint64_t queue_depth = 0;   // batches waiting for it
  uint64_t batches = 0;
  uint64_t replays = 0;     // ReplaySegment calls run
  uint64_t inferences = 0;  // batches with a ReplaySegment or ending in a MemcpyDtoH, that succeeded
};

struct MetricValues {
  uint64_t connections = 0;  // open now
  uint64_t sessions_admitted = 0;
  uint64_t sessions_ended = 0;
  std::array<uint64_t, kRefusalKinds> refusals{};  // by Refusal
  uint64_t protocol_errors = 0;                    // malformed requests (their connection was closed)
  uint64_t bytes_in = 0, messages_in = 0;
  uint64_t bytes_out = 0, messages_out = 0;
  std::vector<DeviceMetricValues> devices;
};

class Metrics {
 public:
  explicit Metrics(size_t device_count);
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  size_t device_count() const { return device_count_; }

  void set_connections(uint64_t open) { store(connections_, open); }
  void session_admitted(size_t device);
  void session_ended(size_t device);
  // A session moved between devices, with the memory it holds.
  void session_moved(size_t from, size_t to, uint64_t memory_bytes);
  void refused(Refusal refusal) { add(refusals_[static_cast<size_t>(refusal)], 1); }
  void protocol_error() { add(protocol_errors_, 1); }
  void received(uint64_t bytes);
  void sent(uint64_t bytes);

  // Per device; an index past the devices is ignored.
  void add_memory(size_t device, int64_t delta_bytes);
  void add_busy(size_t device, uint64_t ns);
  void set_queue_depth(size_t device, uint64_t batches);
  void batch_ran(size_t device, uint64_t replays, bool inference);

  MetricValues read() const;
  // One device's values (zero past the devices).
  DeviceMetricValues read_device(size_t index) const;

 private:
  using Counter = std::atomic<uint64_t>;
  struct alignas(64) DeviceCounters {
    Counter sessions{0}, memory_bytes{0}, busy_ns{0}, queue_depth{0}, batches{0}, replays{0}, inferences{0};
  };

  static void add(Counter& counter, uint64_t n) {
    counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  static void store(Counter& counter, uint64_t n) { counter.store(n, std::memory_order_relaxed); }
  static uint64_t load(const Counter& counter) { return counter.load(std::memory_order_relaxed); }
  DeviceCounters* device(size_t index) { return index < device_count_ ? &devices_[index] : nullptr; }

  const size_t device_count_;
  std::unique_ptr<DeviceCounters[]> devices_;
  Counter connections_{0}, sessions_admitted_{0}, sessions_ended_{0};
  std::array<Counter, kRefusalKinds> refusals_{};
  Counter protocol_errors_{0};
  alignas(64) Counter bytes_in_{0};
  Counter messages_in_{0}, bytes_out_{0}, messages_out_{0};
};

}  // namespace rrto::server

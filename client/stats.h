// Counters behind RRTO_STATS: one JSON line on stderr at exit.
#pragma once

#include <atomic>
#include <cstdint>
#include <span>
#include <string>

namespace rrto::client {

// One per intercepted entry point, created on its first call and linked into
// a global list; counting is one relaxed atomic add.
class CallCounter {
 public:
  explicit CallCounter(const char* name);
  void hit() { count_.fetch_add(1, std::memory_order_relaxed); }

  const char* name() const { return name_; }
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  const CallCounter* next() const { return next_; }

 private:
  const char* name_;
  std::atomic<uint64_t> count_{0};
  const CallCounter* next_ = nullptr;
};

struct TransferStats {
  std::atomic<uint64_t> round_trips{0};
  std::atomic<uint64_t> remote_calls{0};  // calls that reached the server
  std::atomic<uint64_t> bytes_up{0};
  std::atomic<uint64_t> bytes_down{0};
  // Synchronisations queued instead of waited for (replay mode).
  std::atomic<uint64_t> syncs_elided{0};
};

TransferStats& transfer_stats();

// Per inference in the steady state, for every mode: the counters at the end
// of each iteration the Operator Sequence Search finds (an inference), kept
// at iterations 2, 4, 8, ... and the latest, so that the figures printed are
// those of the later half of the run, past its warm-up.
class SteadyState {
 public:
  // Off until RRTO_STATS asks: an iteration's end then costs nothing.
  void enable() { enabled_ = true; }
  void iteration_ended() {
    if (enabled_) record();
  }
  // `"steady_state":{...}`, or empty before 4 iterations.
  std::string json() const;

 private:
  struct Snapshot {
    uint64_t calls = 0, remote_calls = 0, round_trips = 0, bytes_up = 0, bytes_down = 0, cpu_ns = 0;
  };
  static Snapshot now();
  void record();
  bool enabled_ = false;
  uint64_t iterations_ = 0;
  Snapshot at_power_of_two_[64];  // [k]: at iteration 2^k
  Snapshot latest_;
};

SteadyState& steady_state();

// The emulated link as the stats line names it (LinkProfile::describe());
// "off" until set.
void set_stats_link(std::string link);

// The entry points the library exports without implementing them (generated
// from cuda.h) and, for each, how many calls it answered
// CUDA_ERROR_NOT_SUPPORTED; the stats line lists those called, as
// "unsupported".
struct UnsupportedEntryPoints {
  std::span<const char* const> symbols;
  std::span<const std::atomic<uint64_t>> calls;  // calls[i]: symbols[i]'s
};

// Set once, as the library loads.
void set_unsupported_entry_points(UnsupportedEntryPoints entry_points);

// Prints the stats line if RRTO_STATS is on; called once at exit.
// `extra` (JSON members, may be empty) is added to the line.
void print_stats(const char* mode, const char* transport, const std::string& extra);

}  // namespace rrto::client

// Counts a call of the enclosing entry point.
#define RRTO_COUNT_CALL(name)                                     \
  do {                                                            \
    static ::rrto::client::CallCounter rrto_counter_(#name);      \
    rrto_counter_.hit();                                          \
  } while (0)

// Whether a client waiting for a reply should spin before it sleeps.
//
// Spinning pays only when the reply comes within the spin: a null call's
// reply, microseconds away, then costs no sleep and wake-up. A reply a
// millisecond away (a replayed inference) is not caught by the spin, so the
// spin is CPU taken from whatever else runs (the server's threads, on a
// machine both share; on a phone, its battery). A request's size says what
// kind of call it is well enough (one template's inferences are all the same
// size, so are the null calls), so the last round trip of a request of the
// same size predicts the next.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace rrto::transport {

class SpinPredictor {
 public:
  // Spin unless the last request of this size took longer than a spin.
  bool worth_spinning(size_t request_bytes) const { return !slow_[slot(request_bytes)]; }
  // Whether its reply came within a spin's time.
  void record(size_t request_bytes, bool within_spin) { slow_[slot(request_bytes)] = !within_spin; }

 private:
  // Sizes share slots: a collision costs one badly chosen spin, no more.
  static constexpr size_t kSlots = 64;
  static size_t slot(size_t bytes) { return (bytes * 0x9E3779B97F4A7C15ull) >> 58; }
  std::array<bool, kSlots> slow_{};
};

}  // namespace rrto::transport

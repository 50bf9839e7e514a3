// What every fuzz target shares: splitting the fuzzer's bytes into the pieces
// a target needs, and a check that stops the run (a crash libFuzzer records)
// when the code under test broke one of its promises.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>

namespace rrto::fuzz {

// Takes pieces off the front of the input. A piece the input cuts short is
// whatever is left (zero-filled for numbers), so every input is usable.
class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size) : rest_(data, size) {}

  template <typename T>
  T take() {
    T value{};
    const size_t n = std::min(sizeof value, rest_.size());
    if (n) std::memcpy(&value, rest_.data(), n);
    rest_ = rest_.subspan(n);
    return value;
  }
  std::span<const uint8_t> take_bytes(size_t n) {
    const std::span<const uint8_t> piece = rest_.first(std::min(n, rest_.size()));
    rest_ = rest_.subspan(piece.size());
    return piece;
  }
  std::span<const uint8_t> rest() const { return rest_; }
  bool empty() const { return rest_.empty(); }

 private:
  std::span<const uint8_t> rest_;
};

[[noreturn]] inline void check_failed(const char* what, const char* file, int line) {
  std::fprintf(stderr, "fuzz check failed: %s (%s:%d)\n", what, file, line);
  std::abort();
}

}  // namespace rrto::fuzz

#define RRTO_FUZZ_CHECK(condition) \
  ((condition) ? void(0) : ::rrto::fuzz::check_failed(#condition, __FILE__, __LINE__))

// Address windows: every session's device memory lies inside a window of the
// address space, numbered 1..kWindowCount, that is the session's alone across
// its edge cluster. Kernel arguments hold device addresses and cannot be
// rewritten, so a session re-created on another server (failover) or moved to
// another device gets the very same window and asks for each allocation at the
// address it had (MemAlloc::at).
//
// Every server of a cluster must lay windows out alike: the layout is fixed
// here, not configured. Windows sit far from where a process maps its
// program, heap and libraries (and above ASan's shadow memory).
#pragma once

#include <cstdint>
#include <mutex>
#include <random>
#include <set>

#include "protocol/address_window_layout.h"

namespace rrto::server {

using proto::kFirstWindowAddress;
using proto::kWindowBytes;
using proto::kWindowsEnd;
using proto::window_base;
inline constexpr uint64_t kWindowCount = (kWindowsEnd - kFirstWindowAddress) / kWindowBytes;

// Window 0 is none.
inline bool is_window(uint64_t window) { return window >= 1 && window <= kWindowCount; }

// A window `excluded` does not rule out: at random (so that servers choosing
// at once rarely agree), then the first left; 0 when none is.
template <typename Excluded>
uint64_t random_window(std::mt19937_64& random, Excluded&& excluded) {
  std::uniform_int_distribution<uint64_t> pick(1, kWindowCount);
  for (int attempt = 0; attempt < 64; ++attempt)
    if (const uint64_t w = pick(random); !excluded(w)) return w;
  for (uint64_t w = 1; w <= kWindowCount; ++w)
    if (!excluded(w)) return w;
  return 0;
}

// Which windows this server's sessions hold, and a fresh one for a new
// session: chosen at random among those neither held here nor `taken`
// elsewhere in the cluster, so that servers choosing at once rarely agree.
class WindowTable {
 public:
  // Holds `window` for a session; false when this server already holds it.
  bool hold(uint64_t window) {
    std::lock_guard lock(mutex_);
    return held_.insert(window).second;
  }
  void release(uint64_t window) {
    std::lock_guard lock(mutex_);
    held_.erase(window);
  }
  // A window neither held here nor taken by `taken_elsewhere`; 0 when none.
  template <typename TakenElsewhere>
  uint64_t choose(TakenElsewhere&& taken_elsewhere) {
    std::lock_guard lock(mutex_);
    return random_window(random_, [&](uint64_t w) { return held_.contains(w) || taken_elsewhere(w); });
  }
  std::set<uint64_t> held() const {
    std::lock_guard lock(mutex_);
    return held_;
  }

 private:
  mutable std::mutex mutex_;
  std::set<uint64_t> held_;
  std::mt19937_64 random_{std::random_device{}()};
};

}  // namespace rrto::server

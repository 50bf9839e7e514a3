// Where a session's address window lies (server/address_window.h says why
// sessions have one), and the part of it the client carves itself: the
// ranges a program reserves with cuMemAddressReserve. The server never
// places an allocation of its own choosing there, so memory the client maps
// into a range it reserved (a MemAlloc at an address of that part) always
// finds the addresses free.
#pragma once

#include <cstdint>

namespace rrto::proto {

inline constexpr uint64_t kWindowBytes = 128ull << 30;
inline constexpr uint64_t kFirstWindowAddress = 0x200000000000ull;
inline constexpr uint64_t kWindowsEnd = 0x540000000000ull;

// Window 0 is none.
inline constexpr uint64_t window_base(uint64_t window) { return kFirstWindowAddress + (window - 1) * kWindowBytes; }

// The reservable part: above the first allocations, and below the top of the
// window where a host session keeps module globals.
inline constexpr uint64_t kReservableOffset = 32ull << 30;
inline constexpr uint64_t kReservableBytes = 80ull << 30;
inline constexpr uint64_t reservable_begin(uint64_t window) { return window_base(window) + kReservableOffset; }
inline constexpr uint64_t reservable_end(uint64_t window) { return reservable_begin(window) + kReservableBytes; }

}  // namespace rrto::proto

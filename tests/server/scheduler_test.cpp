// Placement by load: where a new session goes under "spread" and "pack".
#include <doctest/doctest.h>

#include "server/scheduler.h"

namespace rrto::server {
namespace {

constexpr uint64_t kGiB = 1ull << 30;

TEST_CASE("spread: fewest sessions, then least recent work, then most free memory") {
  const Scheduler s(Placement::Spread);
  std::vector<DeviceLoad> loads(3, DeviceLoad{.total_memory = 8 * kGiB});
  loads[0].sessions = 2;
  loads[1].sessions = 1;
  loads[2].sessions = 1;
  loads[1].busy_ns = 5'000'000;
  CHECK(s.place(loads, 0) == 2);
  loads[2].busy_ns = 5'000'000;
  loads[1].memory_in_use = 2 * kGiB;
  CHECK(s.place(loads, 0) == 2);
  loads[2].memory_in_use = 3 * kGiB;
  CHECK(s.place(loads, 0) == 1);
}

TEST_CASE("pack: the busiest device that still has room") {
  const Scheduler s(Placement::Pack);
  std::vector<DeviceLoad> loads(3, DeviceLoad{.total_memory = 8 * kGiB});
  CHECK(s.place(loads, kGiB) == 0);  // all empty: the first
  loads[1].sessions = 3;
  loads[1].memory_in_use = 6 * kGiB;
  CHECK(s.place(loads, kGiB) == 1);
  CHECK(s.place(loads, 3 * kGiB) == 0);  // does not fit there any more
}

TEST_CASE("a session goes where its memory fits, if any device has room") {
  const Scheduler s(Placement::Spread);
  std::vector<DeviceLoad> loads(2, DeviceLoad{.total_memory = 4 * kGiB});
  loads[0].memory_in_use = 3 * kGiB;
  loads[1].sessions = 5;
  CHECK(s.place(loads, 2 * kGiB) == 1);
  loads[1].memory_in_use = 3 * kGiB;
  CHECK(s.place(loads, 2 * kGiB) == 0);  // nowhere: the usual order decides
}

TEST_CASE("placement names") {
  Placement p = Placement::Pack;
  CHECK(parse_placement("spread", p));
  CHECK(p == Placement::Spread);
  CHECK(parse_placement("pack", p));
  CHECK(p == Placement::Pack);
  CHECK_FALSE(parse_placement("round-robin", p));
}

}  // namespace
}  // namespace rrto::server

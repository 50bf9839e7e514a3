// Places sessions on devices by load: the memory the device has free, the
// sessions already on it, and the device time they used recently. "spread"
// (the default) puts a new session where there is most room and least
// work; "pack" fills the busiest device that still has room before opening
// another, leaving whole devices free.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace rrto::server {

enum class Placement { Spread, Pack };
// False for a name that is neither "spread" nor "pack".
bool parse_placement(std::string_view name, Placement& out);

struct DeviceLoad {
  uint64_t total_memory = 0;
  uint64_t memory_in_use = 0;  // by the sessions on it
  size_t sessions = 0;
  uint64_t busy_ns = 0;  // device time used since the last placement
  uint64_t free_memory() const { return total_memory - std::min(total_memory, memory_in_use); }
};

class Scheduler {
 public:
  explicit Scheduler(Placement placement) : placement_(placement) {}
  // The device a new session that needs `memory` bytes goes to.
  size_t place(const std::vector<DeviceLoad>& loads, uint64_t memory) const;

 private:
  Placement placement_;
};

}  // namespace rrto::server

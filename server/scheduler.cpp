#include "server/scheduler.h"

#include <tuple>

namespace rrto::server {

bool parse_placement(std::string_view name, Placement& out) {
  if (name == "spread") {
    out = Placement::Spread;
    return true;
  }
  if (name == "pack") {
    out = Placement::Pack;
    return true;
  }
  return false;
}

size_t Scheduler::place(const std::vector<DeviceLoad>& loads, uint64_t memory) const {
  auto free_memory = [](const DeviceLoad& d) { return d.memory_in_use < d.total_memory ? d.total_memory - d.memory_in_use : 0; };
  // Devices where the session fits come first; among them spread prefers
  // fewer sessions, less recent work and more free memory, pack the opposite
  // order of sessions. Ties go to the lowest index.
  auto key = [&](size_t i) {
    const DeviceLoad& d = loads[i];
    const bool fits = free_memory(d) >= memory;
    const int64_t sessions = placement_ == Placement::Spread ? static_cast<int64_t>(d.sessions)
                                                             : -static_cast<int64_t>(d.sessions);
    return std::make_tuple(!fits, sessions, d.busy_ns, ~free_memory(d));
  };
  size_t best = 0;
  for (size_t i = 1; i < loads.size(); ++i)
    if (key(i) < key(best)) best = i;
  return best;
}

}  // namespace rrto::server

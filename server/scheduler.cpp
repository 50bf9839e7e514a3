#include "server/scheduler.h"

namespace rrto::server {

size_t RoundRobinScheduler::place() {
  const size_t device = next_;
  next_ = (next_ + 1) % sessions_.size();
  ++sessions_[device];
  return device;
}

void RoundRobinScheduler::release(size_t device) {
  if (device < sessions_.size() && sessions_[device] > 0) --sessions_[device];
}

}  // namespace rrto::server

// Places sessions on devices. Round-robin for now; the interface is what a
// load-aware scheduler (memory in use, queued work per device) would replace.
#pragma once

#include <cstddef>
#include <vector>

namespace rrto::server {

class Scheduler {
 public:
  virtual ~Scheduler() = default;
  // The index of the device a new session goes to.
  virtual size_t place() = 0;
  // A session placed on `device` ended.
  virtual void release(size_t device) = 0;
};

class RoundRobinScheduler final : public Scheduler {
 public:
  explicit RoundRobinScheduler(size_t device_count) : sessions_(device_count, 0) {}

  size_t place() override;
  void release(size_t device) override;
  size_t sessions_on(size_t device) const { return sessions_.at(device); }

 private:
  std::vector<size_t> sessions_;  // live sessions per device
  size_t next_ = 0;
};

}  // namespace rrto::server

// Runs the work of the sessions placed on one device, on a thread of its own,
// so that devices work in parallel and the transport thread only moves
// messages. Each session's work runs in the order it was submitted; between
// sessions the device is shared by measured device time (deficit round
// robin): a session that used more than its share waits while others have
// work, so long inferences cannot starve short ones.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace rrto::server {

using Task = std::function<void()>;

// One session's queue on its device's executor. It must outlive the tasks
// submitted to it: the last task may hold what owns the queue.
struct WorkQueue {
  uint32_t weight = 1;  // share of the device relative to other sessions
  // Executor-private.
  std::deque<Task> tasks;
  int64_t deficit_ns = 0;
  bool ready = false;  // in the executor's round
};

class DeviceExecutor {
 public:
  // `clock` (nanoseconds) measures the tasks; tests pass one of their own.
  using Clock = std::function<int64_t()>;
  explicit DeviceExecutor(std::string name, Clock clock = steady_clock_ns);
  static int64_t steady_clock_ns();
  ~DeviceExecutor();  // runs what is queued, then stops the thread
  DeviceExecutor(const DeviceExecutor&) = delete;
  DeviceExecutor& operator=(const DeviceExecutor&) = delete;

  void submit(WorkQueue& queue, Task task);
  // Nothing queued and nothing running. Once true, it stays true until the
  // next submit(), and everything the tasks did is visible to the caller.
  bool idle() const;
  // Blocks until idle().
  void wait_idle();

  uint64_t busy_ns() const { return busy_ns_.load(std::memory_order_relaxed); }
  size_t queued() const { return queued_.load(std::memory_order_relaxed); }

 private:
  void loop();
  // The next task by deficit round robin; the lock must be held.
  Task take(WorkQueue*& from);
  void finished(WorkQueue& queue, int64_t ran_ns);
  bool wait_for_work(std::unique_lock<std::mutex>& lock);

  std::string name_;
  Clock clock_;
  mutable std::mutex mutex_;
  std::condition_variable work_;
  std::condition_variable drained_;
  std::deque<WorkQueue*> round_;  // queues with work, in serving order
  bool running_task_ = false;
  bool stopping_ = false;
  bool sleeping_ = false;
  std::atomic<size_t> queued_{0};
  std::atomic<uint64_t> busy_ns_{0};
  std::thread thread_;
};

}  // namespace rrto::server

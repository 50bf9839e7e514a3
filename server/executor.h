// Runs the work of the sessions placed on one device, on a thread of its own,
// so that devices work in parallel and the transport thread only moves
// messages. Each session's work runs in the order it was submitted; between
// sessions the device is shared by measured device time, in proportion to
// their weights: each queue counts its device time divided by its weight
// (its virtual time), and the queue with work and the least virtual time goes
// next, so long inferences cannot starve short ones.
//
// A client has one request in flight, so its queue empties after every batch
// while its next request is on the way. An emptied queue that is behind the
// ones with work waits for nobody by itself: the executor waits for it
// (kAnticipation at most per emptying, whatever other queues submit
// meanwhile) rather than hand the device straight back to a session that
// already had more than its share. A queue that comes back after being idle
// longer starts level with the others: idle time earns no credit.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace rrto::server {

using Task = std::function<void()>;

// A task, and what to do once the executor is done with its queue (e.g. hand
// the result to another thread, which may then give the queue to another
// executor).
struct Job {
  Task run;
  Task then;
};

// One session's queue on its device's executor. It must outlive the tasks
// submitted to it: the last task may hold what owns the queue.
struct WorkQueue {
  uint32_t weight = 1;  // share of the device relative to other sessions
  // Executor-private.
  std::deque<Job> tasks;
  int64_t virtual_ns = 0;  // device time used / weight
  bool ready = false;  // in the executor's round
  // While the executor waits for it to come back (it emptied while behind):
  // until when; none when not awaited.
  std::optional<std::chrono::steady_clock::time_point> awaited_until;
  bool last = false;  // its owner submitted its last task
};

class DeviceExecutor {
 public:
  // `clock` (nanoseconds) measures the tasks; tests pass one of their own.
  // `anticipation`: how long the device waits for an emptied queue that is
  // behind (a reply's way to the client and the next request's way back).
  using Clock = std::function<int64_t()>;
  static constexpr std::chrono::nanoseconds kAnticipation = std::chrono::milliseconds(2);
  explicit DeviceExecutor(std::string name, Clock clock = steady_clock_ns,
                          std::chrono::nanoseconds anticipation = kAnticipation);
  static int64_t steady_clock_ns();
  ~DeviceExecutor();  // runs what is queued, then stops the thread
  DeviceExecutor(const DeviceExecutor&) = delete;
  DeviceExecutor& operator=(const DeviceExecutor&) = delete;

  void submit(WorkQueue& queue, Task task, Task then = nullptr);
  // The queue's last task: afterwards the executor forgets the queue, which
  // may then go with its owner.
  void submit_last(WorkQueue& queue, Task task);
  // Forgets an idle queue whose owner goes without a last task.
  void forget(WorkQueue& queue);
  // Nothing queued and nothing running. Once true, it stays true until the
  // next submit(), and everything the tasks did is visible to the caller.
  bool idle() const;
  // Blocks until idle().
  void wait_idle();

  // Tasks waiting or running.
  size_t queued() const;

 private:
  void loop();
  // The next task by virtual time, or none when the executor should wait for
  // an emptied queue first, until `wait_until`. The lock must be held.
  Job take(WorkQueue*& from, std::chrono::steady_clock::time_point& wait_until);
  void finished(WorkQueue& queue, int64_t ran_ns);
  void leave_round(WorkQueue& queue);
  int64_t least_virtual_time() const;
  bool wait_for_work(std::unique_lock<std::mutex>& lock);

  std::string name_;
  Clock clock_;
  std::chrono::nanoseconds anticipation_;
  mutable std::mutex mutex_;
  std::condition_variable work_;
  std::condition_variable drained_;
  std::deque<WorkQueue*> round_;  // queues with work, or just emptied
  size_t pending_ = 0;            // tasks in the queues
  // Tasks in the queues or running: read without the lock, on every batch.
  std::atomic<size_t> unfinished_{0};
  bool stopping_ = false;
  bool sleeping_ = false;
  std::thread thread_;
};

}  // namespace rrto::server

#include "server/executor.h"

#include <pthread.h>

#include <chrono>

namespace rrto::server {
namespace {

// Device time a session of weight 1 may use per turn while others wait.
constexpr int64_t kQuantumNs = 2'000'000;

}  // namespace

int64_t DeviceExecutor::steady_clock_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

DeviceExecutor::DeviceExecutor(std::string name, Clock clock) : name_(std::move(name)), clock_(std::move(clock)) {
  thread_ = std::thread([this] { loop(); });
  pthread_setname_np(thread_.native_handle(), name_.substr(0, 15).c_str());
}

DeviceExecutor::~DeviceExecutor() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  work_.notify_one();
  thread_.join();
}

void DeviceExecutor::submit(WorkQueue& queue, Task task) {
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    queue.tasks.push_back(std::move(task));
    if (!queue.ready) {
      queue.ready = true;
      round_.push_back(&queue);
    }
    queued_.fetch_add(1, std::memory_order_relaxed);
    wake = sleeping_;
  }
  if (wake) work_.notify_one();
}

bool DeviceExecutor::idle() const {
  std::lock_guard lock(mutex_);
  return round_.empty() && !running_task_;
}

void DeviceExecutor::wait_idle() {
  std::unique_lock lock(mutex_);
  drained_.wait(lock, [this] { return round_.empty() && !running_task_; });
}

Task DeviceExecutor::take(WorkQueue*& from) {
  // Each pass over the round tops every queue up by its quantum, so one
  // with work is found within a few passes.
  for (;;) {
    WorkQueue* q = round_.front();
    if (q->deficit_ns > 0) {
      Task task = std::move(q->tasks.front());
      q->tasks.pop_front();
      from = q;
      return task;
    }
    q->deficit_ns += kQuantumNs * q->weight;
    round_.pop_front();
    round_.push_back(q);
  }
}

void DeviceExecutor::finished(WorkQueue& queue, int64_t ran_ns) {
  queue.deficit_ns -= ran_ns;
  queued_.fetch_sub(1, std::memory_order_relaxed);
  busy_ns_.fetch_add(static_cast<uint64_t>(ran_ns), std::memory_order_relaxed);
  if (!queue.tasks.empty()) return;  // it keeps its turn while its deficit lasts
  // An emptied queue leaves the round and starts afresh next time, as in
  // deficit round robin: idle time earns no credit.
  queue.ready = false;
  queue.deficit_ns = 0;
  for (auto it = round_.begin(); it != round_.end(); ++it) {
    if (*it == &queue) {
      round_.erase(it);
      break;
    }
  }
}

// No spinning here: a session's next request comes only after its reply has
// gone out through the transport thread, which needs the core meanwhile.
bool DeviceExecutor::wait_for_work(std::unique_lock<std::mutex>& lock) {
  if (!round_.empty() || stopping_) return !round_.empty();
  drained_.notify_all();
  sleeping_ = true;
  work_.wait(lock, [this] { return !round_.empty() || stopping_; });
  sleeping_ = false;
  return !round_.empty();
}

void DeviceExecutor::loop() {
  std::unique_lock lock(mutex_);
  while (wait_for_work(lock)) {
    WorkQueue* queue = nullptr;
    Task task = take(queue);
    running_task_ = true;
    lock.unlock();
    const int64_t start = clock_();
    task();
    const int64_t ran = clock_() - start;
    lock.lock();
    running_task_ = false;
    finished(*queue, ran);
    // `task` may hold the last reference to what owns `queue`: it goes only now.
    lock.unlock();
    task = nullptr;
    lock.lock();
  }
  drained_.notify_all();
}

}  // namespace rrto::server

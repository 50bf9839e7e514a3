#include "server/executor.h"

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <optional>

namespace rrto::server {

int64_t DeviceExecutor::steady_clock_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

DeviceExecutor::DeviceExecutor(std::string name, Clock clock, std::chrono::nanoseconds anticipation)
    : name_(std::move(name)), clock_(std::move(clock)), anticipation_(anticipation) {
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

void DeviceExecutor::submit(WorkQueue& queue, Task task, Task then) {
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    queue.tasks.push_back({std::move(task), std::move(then)});
    queue.awaited_until.reset();
    if (!queue.ready) {
      queue.ready = true;
      queue.virtual_ns = std::max(queue.virtual_ns, least_virtual_time());
      round_.push_back(&queue);
    }
    ++pending_;
    unfinished_.fetch_add(1, std::memory_order_relaxed);
    wake = sleeping_;
  }
  if (wake) work_.notify_one();
}

void DeviceExecutor::submit_last(WorkQueue& queue, Task task) {
  {
    std::lock_guard lock(mutex_);
    queue.last = true;
  }
  submit(queue, std::move(task));
}

void DeviceExecutor::forget(WorkQueue& queue) {
  std::lock_guard lock(mutex_);
  if (queue.ready) leave_round(queue);
}

size_t DeviceExecutor::queued() const { return unfinished_.load(std::memory_order_acquire); }

bool DeviceExecutor::idle() const { return queued() == 0; }

void DeviceExecutor::wait_idle() {
  std::unique_lock lock(mutex_);
  drained_.wait(lock, [this] { return unfinished_.load(std::memory_order_relaxed) == 0; });
}

Job DeviceExecutor::take(WorkQueue*& from, std::chrono::steady_clock::time_point& wait_until) {
  // Read only when some queue has emptied, not for every task.
  std::optional<std::chrono::steady_clock::time_point> read;
  auto now = [&read] { return read ? *read : *(read = std::chrono::steady_clock::now()); };
  WorkQueue* next = nullptr;  // the queue with work furthest behind
  WorkQueue* awaited = nullptr;  // the emptied queue furthest behind
  for (size_t i = 0; i < round_.size();) {
    WorkQueue* q = round_[i];
    if (!q->tasks.empty()) {
      if (!next || q->virtual_ns < next->virtual_ns) next = q;
    } else if (q->awaited_until && now() >= *q->awaited_until) {
      q->awaited_until.reset();
      leave_round(*q);  // waited for in full: it has gone quiet
      continue;
    } else if (!awaited || q->virtual_ns < awaited->virtual_ns) {
      awaited = q;
    }
    ++i;
  }
  if (awaited && (!next || awaited->virtual_ns < next->virtual_ns)) {
    if (!awaited->awaited_until) awaited->awaited_until = now() + anticipation_;
    wait_until = *awaited->awaited_until;
    return {};
  }
  Job job = std::move(next->tasks.front());
  next->tasks.pop_front();
  --pending_;
  from = next;
  return job;
}

int64_t DeviceExecutor::least_virtual_time() const {
  int64_t least = 0;
  bool any = false;
  for (const WorkQueue* q : round_) {
    if (!any || q->virtual_ns < least) least = q->virtual_ns;
    any = true;
  }
  return least;
}

void DeviceExecutor::finished(WorkQueue& queue, int64_t ran_ns) {
  queue.virtual_ns += ran_ns / std::max<uint32_t>(queue.weight, 1);
  if (queue.tasks.empty() && queue.last) leave_round(queue);
}

void DeviceExecutor::leave_round(WorkQueue& queue) {
  queue.ready = false;
  for (auto it = round_.begin(); it != round_.end(); ++it) {
    if (*it == &queue) {
      round_.erase(it);
      break;
    }
  }
}

// No spinning here: a session's next request comes only after its reply, and
// meanwhile the thread that serves the transport's loop (often this one, in
// the reply's task: see Server::post) needs the core.
bool DeviceExecutor::wait_for_work(std::unique_lock<std::mutex>& lock) {
  if (pending_ > 0 || stopping_) return pending_ > 0;
  drained_.notify_all();
  sleeping_ = true;
  work_.wait(lock, [this] { return pending_ > 0 || stopping_; });
  sleeping_ = false;
  return pending_ > 0;
}

void DeviceExecutor::loop() {
  std::unique_lock lock(mutex_);
  while (wait_for_work(lock)) {
    WorkQueue* queue = nullptr;
    std::chrono::steady_clock::time_point wait_until;
    Job job = take(queue, wait_until);
    if (!job.run) {
      const size_t pending = pending_;
      sleeping_ = true;
      work_.wait_until(lock, wait_until, [&] { return pending_ != pending || stopping_; });
      sleeping_ = false;
      continue;
    }
    lock.unlock();
    const int64_t start = clock_();
    job.run();
    const int64_t ran = clock_() - start;
    lock.lock();
    finished(*queue, ran);
    // Release: whoever sees the count drop sees what the task did.
    unfinished_.fetch_sub(1, std::memory_order_release);
    // Done with the queue: `then` may hand it on, and the job may hold the
    // last reference to what owns it, so both go only now.
    lock.unlock();
    if (job.then) job.then();
    job = {};
    lock.lock();
  }
  drained_.notify_all();
}

}  // namespace rrto::server

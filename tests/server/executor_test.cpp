// The device executor: order within a session, sharing between sessions by
// device time (measured with a clock the test drives, so no result here
// depends on real timing), and idleness.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "server/executor.h"

namespace rrto::server {
namespace {

// Device time as the tasks say they spent it.
struct FakeClock {
  std::atomic<int64_t> now{0};
  DeviceExecutor::Clock clock() {
    return [this] { return now.load(); };
  }
};

struct Log {
  std::mutex mutex;
  std::string order;
  void add(char c) {
    std::lock_guard lock(mutex);
    order += c;
  }
};

// Fills the executor's queues while it is held on a first task, so that the
// order the tasks run in is the scheduler's alone; returns when all ran.
template <typename Fill>
void run_held(DeviceExecutor& executor, Fill fill) {
  std::mutex gate;
  gate.lock();
  WorkQueue opener;
  executor.submit(opener, [&gate] { std::lock_guard hold(gate); });
  fill();
  gate.unlock();
  executor.wait_idle();
}

TEST_CASE("one session's tasks run in the order they came") {
  FakeClock time;
  Log log;
  WorkQueue queue;
  {
    DeviceExecutor executor("test", time.clock());
    for (char c : std::string("abcdefgh")) executor.submit(queue, [&log, c] { log.add(c); });
    executor.wait_idle();
    CHECK(executor.idle());
  }
  CHECK(log.order == "abcdefgh");
}

TEST_CASE("a session that used more device time waits while another has work") {
  FakeClock time;
  Log log;
  WorkQueue slow, quick;
  DeviceExecutor executor("test", time.clock());
  run_held(executor, [&] {
    for (int i = 0; i < 3; ++i) executor.submit(slow, [&] { log.add('S'), time.now += 10'000'000; });
    for (int i = 0; i < 20; ++i) executor.submit(quick, [&] { log.add('q'), time.now += 1'000'000; });
  });
  // After each 10 ms task of the slow session, the quick one runs ten 1 ms
  // tasks before the slow one is behind again.
  const std::string& order = log.order;
  REQUIRE(order.size() == 23);
  const size_t first = order.find('S'), second = order.find('S', first + 1);
  REQUIRE(second != std::string::npos);
  CHECK(second - first - 1 >= 8);
  CHECK(order.find("SS") == std::string::npos);
}

TEST_CASE("a weight of 2 buys twice the device time") {
  FakeClock time;
  Log log;
  WorkQueue heavy, light;
  heavy.weight = 2;
  DeviceExecutor executor("test", time.clock());
  run_held(executor, [&] {
    for (int i = 0; i < 60; ++i) executor.submit(heavy, [&] { log.add('H'), time.now += 1'000'000; });
    for (int i = 0; i < 60; ++i) executor.submit(light, [&] { log.add('L'), time.now += 1'000'000; });
  });
  // While both had work (the first 60 of the 120 tasks), heavy ran twice as often.
  const std::string both = log.order.substr(0, 60);
  const auto h = std::count(both.begin(), both.end(), 'H');
  CHECK(h >= 38);
  CHECK(h <= 42);
}

TEST_CASE("a session that is behind keeps the device it waits for while others submit") {
  FakeClock time;
  Log log;
  WorkQueue slow, quick;
  // Anticipation far longer than the test: the executor waits for the quick
  // session's next task however long it takes to come.
  DeviceExecutor executor("test", time.clock(), std::chrono::seconds(60));
  std::mutex gate;
  gate.lock();
  executor.submit(slow, [&] {
    std::lock_guard hold(gate);
    log.add('S'), time.now += 10'000'000;
  });
  executor.submit(quick, [&] { log.add('q'), time.now += 1'000'000; });
  gate.unlock();
  // Both queues empty, quick behind: the device waits for quick. The slow
  // session's next task comes first...
  while (executor.queued() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  executor.submit_last(slow, [&] { log.add('T'), time.now += 10'000'000; });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  // ... and still waits for quick's, which then runs first.
  executor.submit_last(quick, [&] { log.add('r'), time.now += 1'000'000; });
  executor.wait_idle();
  CHECK(log.order == "SqrT");
}

TEST_CASE("a task may drop the last hold on its queue's owner") {
  FakeClock time;
  DeviceExecutor executor("test", time.clock());
  struct Owner {
    WorkQueue queue;
  };
  auto owner = std::make_shared<Owner>();
  std::atomic<bool> ran{false};
  WorkQueue& queue = owner->queue;
  executor.submit_last(queue, [owner = std::move(owner), &ran]() mutable { ran = true; });
  executor.wait_idle();
  CHECK(ran);
  CHECK(executor.queued() == 0);
}

}  // namespace
}  // namespace rrto::server

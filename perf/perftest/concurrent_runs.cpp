#include "perf/perftest/concurrent_runs.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace rrto::perf {
namespace {

using clock_type = std::chrono::steady_clock;

// Holds the clients until all have arrived (ready, or ended before that).
class StartLine {
 public:
  StartLine(uint32_t count, const std::function<void()>& on_start) : waiting_for_(count), on_start_(on_start) {}

  // A client is ready: returns once every client has arrived.
  void ready() {
    std::unique_lock lock(mutex_);
    if (arrive()) return;
    released_cv_.wait(lock, [&] { return released_; });
  }

  // A client ended without becoming ready.
  void gone() {
    std::lock_guard lock(mutex_);
    arrive();
  }

  clock_type::time_point released_at() const { return released_at_; }

 private:
  // True when this arrival releases everyone. Called with the lock held.
  bool arrive() {
    if (--waiting_for_ > 0) return false;
    released_ = true;
    released_at_ = clock_type::now();
    on_start_();
    released_cv_.notify_all();
    return true;
  }

  std::mutex mutex_;
  std::condition_variable released_cv_;
  uint32_t waiting_for_;
  const std::function<void()>& on_start_;
  bool released_ = false;
  clock_type::time_point released_at_{};
};

}  // namespace

ConcurrentOutcome run_concurrently(WorkloadRun run, uint32_t count, const std::function<void()>& on_start,
                                   const std::function<void(size_t, uint64_t)>& on_sample) {
  run.gated = true;
  ConcurrentOutcome out;
  out.clients.resize(count);
  StartLine start(count, on_start);
  std::mutex sample_mutex;
  clock_type::time_point last_sample{};

  std::vector<std::thread> threads;
  for (uint32_t c = 0; c < count; ++c) {
    threads.emplace_back([&, c] {
      ClientRun& client = out.clients[c];
      bool ready = false;
      client.outcome = run_workload(
          run,
          [&] {
            ready = true;
            start.ready();
          },
          [&](uint64_t ns) {
            std::lock_guard lock(sample_mutex);
            client.samples_ns.push_back(ns);
            last_sample = clock_type::now();
            on_sample(c, ns);
          });
      if (!ready) start.gone();
    });
  }
  for (std::thread& t : threads) t.join();
  if (last_sample > start.released_at()) out.window = last_sample - start.released_at();
  return out;
}

ClientsRecord summarise_clients(const ConcurrentOutcome& outcome, double rank) {
  ClientsRecord record;
  uint64_t total = 0;
  double slowest = 0, fastest = 0;
  for (const ClientRun& client : outcome.clients) {
    Measurement m(0, rank);
    m.start();
    for (uint64_t ns : client.samples_ns) m.add(ns);
    m.finish(std::chrono::nanoseconds(client.outcome.wall_ns));
    std::vector<uint64_t> samples = client.samples_ns;
    ClientsRecord::PerClient c{.summary = m.total(), .p50_us = percentile(samples, 50.0) / 1e3};
    c.per_second = client.outcome.wall_ns ? static_cast<double>(client.outcome.iterations) * 1e9 /
                                                static_cast<double>(client.outcome.wall_ns)
                                          : 0;
    slowest = record.per_client.empty() ? c.per_second : std::min(slowest, c.per_second);
    fastest = record.per_client.empty() ? c.per_second : std::max(fastest, c.per_second);
    total += client.outcome.iterations;
    record.per_client.push_back(c);
  }
  record.window_s = std::chrono::duration<double>(outcome.window).count();
  record.aggregate_per_second = record.window_s > 0 ? static_cast<double>(total) / record.window_s : 0;
  record.spread = slowest > 0 ? fastest / slowest : 0;
  return record;
}

}  // namespace rrto::perf

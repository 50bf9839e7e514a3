#include "client/stats.h"

#include <fmt/format.h>

#include <bit>
#include <cstdio>
#include <ctime>
#include <map>
#include <string>

namespace rrto::client {
namespace {

std::atomic<const CallCounter*> g_counters{nullptr};
constinit UnsupportedEntryPoints g_unsupported;

std::string& stats_link() {
  // Never destroyed: the stats line is printed by an exit handler.
  static std::string* link = new std::string("off");
  return *link;
}

// `"unsupported":{"cuX":n,...}` for the unsupported entry points called, or
// empty when none was.
std::string unsupported_calls_json() {
  std::string members;
  for (size_t i = 0; i < g_unsupported.symbols.size(); ++i) {
    if (const uint64_t n = g_unsupported.calls[i].load(std::memory_order_relaxed))
      members += fmt::format(R"({}"{}":{})", members.empty() ? "" : ",", g_unsupported.symbols[i], n);
  }
  return members.empty() ? std::string() : R"("unsupported":{)" + members + "}";
}

}  // namespace

void set_unsupported_entry_points(UnsupportedEntryPoints entry_points) { g_unsupported = entry_points; }

CallCounter::CallCounter(const char* name) : name_(name) {
  const CallCounter* head = g_counters.load();
  do {
    next_ = head;
  } while (!g_counters.compare_exchange_weak(head, this));
}

void set_stats_link(std::string link) { stats_link() = std::move(link); }

TransferStats& transfer_stats() {
  static TransferStats stats;
  return stats;
}

SteadyState& steady_state() {
  static SteadyState state;
  return state;
}

SteadyState::Snapshot SteadyState::now() {
  Snapshot s;
  for (const CallCounter* c = g_counters.load(); c; c = c->next()) s.calls += c->count();
  const TransferStats& t = transfer_stats();
  s.remote_calls = t.remote_calls.load(std::memory_order_relaxed);
  s.round_trips = t.round_trips.load(std::memory_order_relaxed);
  s.bytes_up = t.bytes_up.load(std::memory_order_relaxed);
  s.bytes_down = t.bytes_down.load(std::memory_order_relaxed);
  timespec cpu{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
  s.cpu_ns = static_cast<uint64_t>(cpu.tv_sec) * 1'000'000'000 + static_cast<uint64_t>(cpu.tv_nsec);
  return s;
}

void SteadyState::record() {
  latest_ = now();
  ++iterations_;
  if (std::has_single_bit(iterations_)) at_power_of_two_[std::countr_zero(iterations_)] = latest_;
}

std::string SteadyState::json() const {
  if (iterations_ < 4) return {};
  // From the largest power of two at most half the iterations: the later half.
  const int k = std::bit_width(iterations_ / 2) - 1;
  const Snapshot& from = at_power_of_two_[k];
  const double n = static_cast<double>(iterations_ - (uint64_t{1} << k));
  auto per = [n](uint64_t to, uint64_t from) { return static_cast<double>(to - from) / n; };
  return fmt::format(
      R"("steady_state":{{"inferences":{},"calls":{:.2f},"remote_calls":{:.2f},"round_trips":{:.2f},)"
      R"("bytes_up":{:.1f},"bytes_down":{:.1f},"cpu_us":{:.1f}}})",
      iterations_ - (uint64_t{1} << k), per(latest_.calls, from.calls), per(latest_.remote_calls, from.remote_calls),
      per(latest_.round_trips, from.round_trips), per(latest_.bytes_up, from.bytes_up),
      per(latest_.bytes_down, from.bytes_down), per(latest_.cpu_ns, from.cpu_ns) / 1000.0);
}

void print_stats(const char* mode, const char* transport, const std::string& extra) {
  std::map<std::string, uint64_t> per_call;  // sorted, so the line is stable
  uint64_t calls = 0;
  for (const CallCounter* c = g_counters.load(); c; c = c->next()) {
    per_call[c->name()] += c->count();
    calls += c->count();
  }
  const TransferStats& t = transfer_stats();
  std::string line = fmt::format(
      R"({{"rrto_stats":1,"mode":"{}","transport":"{}","link":"{}","calls":{},"remote_calls":{},"round_trips":{},"bytes_up":{},"bytes_down":{},"syncs_elided":{},"per_call":{{)",
      mode, transport, stats_link(), calls, t.remote_calls.load(), t.round_trips.load(), t.bytes_up.load(), t.bytes_down.load(),
      t.syncs_elided.load());
  const char* sep = "";
  for (const auto& [name, count] : per_call) {
    line += fmt::format(R"({}"{}":{})", sep, name, count);
    sep = ",";
  }
  line += "}";
  if (const std::string unsupported = unsupported_calls_json(); !unsupported.empty()) line += "," + unsupported;
  if (const std::string steady = steady_state().json(); !steady.empty()) line += "," + steady;
  if (!extra.empty()) line += "," + extra;
  line += "}\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace rrto::client

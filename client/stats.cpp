#include "client/stats.h"

#include <fmt/format.h>

#include <cstdio>
#include <map>
#include <string>

namespace rrto::client {
namespace {

std::atomic<const CallCounter*> g_counters{nullptr};

std::string& stats_link() {
  // Never destroyed: the stats line is printed by an exit handler.
  static std::string* link = new std::string("off");
  return *link;
}

}  // namespace

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
  if (!extra.empty()) line += "," + extra;
  line += "}\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace rrto::client

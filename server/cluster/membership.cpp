#include "server/cluster/membership.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include <fmt/format.h>

#include "common/log.h"
#include "protocol/calls.h"
#include "server/address_window.h"

namespace rrto::server::cluster {
namespace {

using nlohmann::json;
constexpr const char* kLog = "cluster";
constexpr auto kRefreshInterval = std::chrono::seconds(1);
// How long a client sent to another server takes to get there and be admitted.
constexpr auto kConnectTime = std::chrono::milliseconds(250);
// Windows claimed ahead of need: new sessions in one refresh interval.
constexpr size_t kSpareWindows = 4;
// A window handed out becomes held within this long (or its session failed).
constexpr auto kAdmitTime = std::chrono::seconds(5);

std::string window_key(uint64_t window) { return fmt::format("{}{}", kWindowsPrefix, window); }

}  // namespace

std::string to_json(const ServerEntry& e) {
  return json{{"name", e.name},         {"address", e.address},   {"devices", e.devices},
              {"free_memory", e.free_memory}, {"sessions", e.sessions}, {"busy", e.busy},
              {"windows", e.windows}}
      .dump();
}

bool from_json(const std::string& text, ServerEntry& e) {
  const json j = json::parse(text, nullptr, false);
  if (!j.is_object()) return false;
  auto text_of = [&](const char* key, std::string& out) {
    if (!j.contains(key) || !j[key].is_string()) return false;
    out = j[key].get<std::string>();
    return true;
  };
  auto count_of = [&](const char* key, uint64_t& out) {
    if (!j.contains(key) || !j[key].is_number_unsigned()) return false;
    out = j[key].get<uint64_t>();
    return true;
  };
  if (!text_of("name", e.name) || !text_of("address", e.address) || !count_of("devices", e.devices) ||
      !count_of("free_memory", e.free_memory) || !count_of("sessions", e.sessions) || !j.contains("busy") ||
      !j["busy"].is_number())
    return false;
  e.busy = j["busy"].get<double>();
  e.windows.clear();
  if (j.contains("windows")) {
    if (!j["windows"].is_array()) return false;
    for (const json& w : j["windows"]) {
      if (!w.is_number_unsigned()) return false;
      e.windows.push_back(w.get<uint64_t>());
    }
  }
  config::ServerAddress address;  // where clients would be sent: it must be one
  return config::parse_host_port(e.address, address) && address.port != 0;
}

Membership::Membership(const config::ServerConfig::Cluster& cluster, std::string address, Sampler sample)
    : name_(cluster.name),
      key_(kServersPrefix + cluster.name),
      address_(std::move(address)),
      ttl_(cluster.lease_ttl_s),
      sample_(std::move(sample)),
      etcd_(cluster.etcd),
      last_sample_(sample_()),
      last_sampled_(std::chrono::steady_clock::now()) {
  thread_ = std::thread([this] { loop(); });
}

Membership::~Membership() { leave(); }

void Membership::leave() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
  if (lease_ == 0) return;
  if (ok(etcd_.revoke(lease_)))
    RRTO_INFO(kLog, "left the cluster ({} removed)", key_);
  else
    RRTO_WARN(kLog, "could not leave the cluster at once ({}): {} goes when its lease ends, within {} s", etcd_.error(),
              key_, ttl_.count());
}

void Membership::loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    const Status s = refresh();
    if (ok(s)) read_others();
    if (!ok(s) && reachable_) RRTO_WARN(kLog, "cannot refresh {} in etcd, serving on: {}", key_, etcd_.error());
    if (ok(s) && !reachable_) RRTO_INFO(kLog, "etcd reachable again: {} refreshed", key_);
    reachable_ = ok(s);
    lock.lock();
    wake_.wait_for(lock, kRefreshInterval, [this] { return stopping_; });
  }
}

Status Membership::refresh() {
  const bool new_lease = lease_ == 0;
  if (new_lease) {
    if (Status s = etcd_.grant(ttl_, lease_); !ok(s)) return s;
    claimed_.clear();  // the claims went with the old lease
    std::lock_guard lock(mutex_);
    spare_.clear();
  }
  const ServerEntry entry = entry_now();
  Status s = etcd_.put(key_, to_json(entry), lease_);
  if (ok(s) && !new_lease) s = etcd_.keep_alive(lease_);
  if (s == Status::NotFound) lease_ = 0;  // it ended while etcd was out of reach: a new one next time
  if (ok(s) && new_lease) RRTO_INFO(kLog, "joined the cluster as {} ({}, lease {:x})", name_, address_, lease_);
  if (ok(s)) claim_windows(entry.windows);
  return s;
}

void Membership::claim_windows(const std::vector<uint64_t>& held) {
  const std::string value = json{{"server", name_}}.dump();
  // A resumed session's window, or one chosen while etcd was away: ours now.
  for (uint64_t w : held)
    if (!claimed_.contains(w) && ok(etcd_.put(window_key(w), value, lease_))) claimed_.insert(w);
  std::set<uint64_t> keep(held.begin(), held.end());
  {
    std::lock_guard lock(mutex_);
    const auto now = std::chrono::steady_clock::now();
    std::erase_if(given_, [&](const auto& g) { return keep.contains(g.first) || now - g.second > kAdmitTime; });
    keep.insert(spare_.begin(), spare_.end());
    for (const auto& g : given_) keep.insert(g.first);
  }
  for (auto it = claimed_.begin(); it != claimed_.end();)
    it = !keep.contains(*it) && ok(etcd_.remove(window_key(*it))) ? claimed_.erase(it) : std::next(it);
  for (size_t spare = keep.size() - held.size(); spare < kSpareWindows; ++spare) {
    const uint64_t w = unclaimed_window(held);
    bool created = false;
    if (w == 0 || !ok(etcd_.put_if_absent(window_key(w), value, lease_, created))) return;
    if (!created) continue;  // another server's: try another next time round
    claimed_.insert(w);
    std::lock_guard lock(mutex_);
    spare_.push_back(w);
  }
}

uint64_t Membership::unclaimed_window(const std::vector<uint64_t>& held) {
  return random_window(random_, [&](uint64_t w) {
    return claimed_.contains(w) || std::find(held.begin(), held.end(), w) != held.end() || window_taken(w);
  });
}

uint64_t Membership::take_window() {
  std::lock_guard lock(mutex_);
  if (spare_.empty()) return 0;
  const uint64_t w = spare_.back();
  spare_.pop_back();
  given_.emplace_back(w, std::chrono::steady_clock::now());
  return w;
}

void Membership::read_others() {
  std::vector<std::pair<std::string, std::string>> entries;
  if (!ok(etcd_.get_prefix(kServersPrefix, entries))) return;  // the last view stands
  std::vector<ServerEntry> others;
  for (const auto& [key, value] : entries) {
    ServerEntry entry;
    if (key == key_) continue;
    if (from_json(value, entry))
      others.push_back(std::move(entry));
    else
      RRTO_DEBUG(kLog, "{} in etcd is not a server's entry", key);
  }
  // An entry read now was written within the last refresh interval: the
  // clients sent there before that have been counted by it.
  const auto counted = std::chrono::steady_clock::now() - kRefreshInterval - kConnectTime;
  std::lock_guard lock(mutex_);
  auto names = [](const std::vector<ServerEntry>& list) {
    std::string out;
    for (const ServerEntry& e : list) out += fmt::format("{}{} ({})", out.empty() ? "" : ", ", e.name, e.address);
    return out;
  };
  if (const std::string now = names(others); now != names(others_))
    RRTO_INFO(kLog, "{} other server(s) in the cluster{}{}", others.size(), others.empty() ? "" : ": ", now);
  others_ = std::move(others);
  std::erase_if(sent_, [&](const auto& s) { return s.second < counted; });
}

uint64_t Membership::recently_sent(const std::string& address) const {
  return std::count_if(sent_.begin(), sent_.end(), [&](const auto& s) { return s.first == address; });
}

std::string Membership::better_server(uint32_t devices, uint64_t sessions, uint64_t memory) {
  using proto::less_loaded;
  std::lock_guard lock(mutex_);
  const ServerEntry* best = nullptr;
  uint64_t best_sessions = 0;
  for (const ServerEntry& e : others_) {
    const uint64_t s = e.sessions + recently_sent(e.address);
    if (e.devices == 0 || e.free_memory < memory) continue;
    if (!best || less_loaded(s, e.devices, best_sessions, best->devices)) {
      best = &e;
      best_sessions = s;
    }
  }
  if (!best || devices == 0 || !less_loaded(best_sessions, best->devices, sessions, devices)) return {};
  sent_.emplace_back(best->address, std::chrono::steady_clock::now());
  return best->address;
}

bool Membership::window_taken(uint64_t window) {
  std::lock_guard lock(mutex_);
  for (const ServerEntry& e : others_)
    if (std::find(e.windows.begin(), e.windows.end(), window) != e.windows.end()) return true;
  return false;
}

std::string Membership::peers() {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const ServerEntry& e : others_) out += (out.empty() ? "" : ",") + e.address;
  return out;
}

ServerEntry Membership::entry_now() {
  const LoadSample now = sample_();
  const auto at = std::chrono::steady_clock::now();
  const double elapsed_ns = std::chrono::duration<double, std::nano>(at - last_sampled_).count();
  const double busy = now.devices == 0 || elapsed_ns <= 0
                          ? 0
                          : static_cast<double>(now.busy_ns - last_sample_.busy_ns) / (elapsed_ns * now.devices);
  last_sample_ = now;
  last_sampled_ = at;
  return {.name = name_,
          .address = address_,
          .devices = now.devices,
          .free_memory = now.total_memory - std::min(now.total_memory, now.memory_in_use),
          .sessions = now.sessions,
          .busy = std::min(busy, 1.0),
          .windows = now.windows};
}

}  // namespace rrto::server::cluster

// This server's entry in its edge cluster: the key kServersPrefix + name in
// etcd, under a lease, holding where clients reach it and its load (JSON,
// ServerEntry). A thread of its own refreshes it about once a second, so a
// server that dies leaves the cluster when its lease ends (lease_ttl_s); one
// that stops revokes the lease and leaves at once. While etcd cannot be
// reached the server serves on and keeps trying; the log says when it loses
// and regains etcd. With each refresh it also reads the other servers'
// entries, which say where a new client would do better (ClusterView).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "config/config.h"
#include "server/cluster/etcd_client.h"
#include "server/cluster_view.h"

namespace rrto::server::cluster {

inline constexpr const char* kServersPrefix = "rrto/servers/";
// rrto/windows/N: address window N is this server's ({"server": name}),
// under its lease. Claimed with a transaction that fails when the key exists,
// so no two servers hold one window.
inline constexpr const char* kWindowsPrefix = "rrto/windows/";

// What the cluster knows of one server.
struct ServerEntry {
  std::string name;
  std::string address;  // host:port, where clients reach it
  uint64_t devices = 0;
  uint64_t free_memory = 0;  // bytes, summed over its devices
  uint64_t sessions = 0;
  double busy = 0;  // the fraction of its devices' time spent running work, over the last refresh
  std::vector<uint64_t> windows;  // the address windows its sessions hold
};
std::string to_json(const ServerEntry& entry);
// False when `text` is not an entry.
bool from_json(const std::string& text, ServerEntry& entry);

// The counters an entry is made from, read when it is refreshed.
struct LoadSample {
  uint64_t devices = 0;
  uint64_t total_memory = 0, memory_in_use = 0;
  uint64_t sessions = 0;
  uint64_t busy_ns = 0;  // device time spent so far, summed over the devices
  std::vector<uint64_t> windows;
};

class Membership final : public ClusterView {
 public:
  using Sampler = std::function<LoadSample()>;
  // `address`: where clients reach this server. Starts refreshing at once.
  Membership(const config::ServerConfig::Cluster& cluster, std::string address, Sampler sample);
  ~Membership() override;  // leave()
  Membership(const Membership&) = delete;
  Membership& operator=(const Membership&) = delete;

  // Stops refreshing and revokes the lease: the entry is gone from etcd once
  // this returns (when etcd is reachable). Idempotent.
  void leave();

  std::string better_server(uint32_t devices, uint64_t sessions, uint64_t memory) override;
  uint64_t take_window() override;
  bool window_taken(uint64_t window) override;
  std::string peers() override;

 private:
  void read_others();
  // Clients sent to `address` lately: its entry may not count them yet.
  uint64_t recently_sent(const std::string& address) const;
  void loop();
  // One refresh: a lease if there is none, the entry, the lease kept alive.
  Status refresh();
  // Keeps a claim on each window in `held` and on a few spare ones, and
  // gives up the others.
  void claim_windows(const std::vector<uint64_t>& held);
  // A window neither in `held`, nor claimed here, nor in another's entry; 0 when none.
  uint64_t unclaimed_window(const std::vector<uint64_t>& held);
  ServerEntry entry_now();

  const std::string name_, key_, address_;
  const std::chrono::seconds ttl_;
  Sampler sample_;
  EtcdClient etcd_;  // the refreshing thread's, then leave()'s
  int64_t lease_ = 0;
  LoadSample last_sample_;
  std::chrono::steady_clock::time_point last_sampled_;
  bool reachable_ = true;  // as last logged
  std::set<uint64_t> claimed_;  // under lease_
  std::mt19937_64 random_{std::random_device{}()};

  std::mutex mutex_;  // what follows
  std::vector<ServerEntry> others_;  // as read with the last refresh
  std::vector<std::pair<std::string, std::chrono::steady_clock::time_point>> sent_;  // address, when
  std::vector<uint64_t> spare_;  // claimed, for take_window()
  std::vector<std::pair<uint64_t, std::chrono::steady_clock::time_point>> given_;  // taken from spare_, when
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace rrto::server::cluster

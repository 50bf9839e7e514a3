#include "client/failover.h"

#include <algorithm>
#include <chrono>

#include "client/server_choice.h"
#include "common/log.h"
#include "config/config.h"

namespace rrto::client {
namespace {

using transport::ConnectOptions;

// Servers a client keeps in mind, whatever its servers tell it.
constexpr size_t kMaxServers = 64;

}  // namespace

void Failover::configure(std::vector<ConnectOptions> servers, std::string auth_key, std::string client_name,
                         uint64_t max_log_bytes) {
  servers_ = std::move(servers);
  auth_key_ = std::move(auth_key);
  client_name_ = std::move(client_name);
  record_.set_limit(max_log_bytes);
}

void Failover::opened(const proto::HelloResult& result) {
  window_ = result.window;
  std::string_view peers = result.peers;
  while (!peers.empty()) {
    const size_t comma = peers.find(',');
    learn(peers.substr(0, comma));
    peers = comma == std::string_view::npos ? std::string_view{} : peers.substr(comma + 1);
  }
}

void Failover::learn(std::string_view address) {
  config::ServerAddress parsed;
  if (servers_.empty() || servers_.size() >= kMaxServers || !config::parse_host_port(address, parsed) ||
      parsed.port == 0)
    return;
  for (const ConnectOptions& s : servers_)
    if (s.host == parsed.host && s.port == parsed.port) return;
  ConnectOptions server = servers_.front();
  server.host = parsed.host;
  server.port = parsed.port;
  servers_.push_back(std::move(server));
}

void Failover::watch(Remote& remote) {
  const bool elsewhere = std::any_of(servers_.begin(), servers_.end(),
                                     [&](const ConnectOptions& s) { return server_name(s) != remote.server_name(); });
  if (!elsewhere || !record_.why_unusable().empty()) return;
  remote.set_silence_limit(kLostAfterMs);
  watched_ = &remote;
}

void Failover::kept(std::span<const uint8_t> meta, std::span<const transport::Segment> bulk, uint32_t ran,
                    std::span<const uint8_t> last_result) {
  record_.keep(meta, bulk, ran, last_result);
  if (watched_ && !record_.why_unusable().empty()) {
    watched_->set_silence_limit(0);  // nowhere to go: only the configured timeout ends a wait
    watched_ = nullptr;
  }
}

std::vector<ConnectOptions> Failover::candidates(const std::string& lost) const {
  std::vector<ConnectOptions> out;
  for (const ConnectOptions& s : servers_)
    if (server_name(s) != lost) out.push_back(s);
  if (out.empty()) out = servers_;  // it may be back
  return out;
}

CUresult Failover::replay_record(Remote& fresh) {
  for (const SessionRecord::Chunk& chunk : record_.chunks()) {
    fresh.defer_encoded(chunk.calls);
    if (!chunk.bulk.empty()) fresh.add_bulk_ref(chunk.bulk.data(), chunk.bulk.size());
    if (const CUresult r = fresh.flush(); r != CUDA_SUCCESS) return r;
  }
  return CUDA_SUCCESS;
}

bool Failover::reconnect(Remote& remote) {
  const std::string lost = remote.server_name();
  if (!record_.why_unusable().empty() || window_ == 0) {
    RRTO_ERROR("client", "cannot re-create the session lost with {}: {}", lost,
               window_ == 0 ? "its server gave it no address window" : record_.why_unusable());
    return false;
  }
  const auto started = std::chrono::steady_clock::now();
  std::vector<ConnectOptions> left = candidates(lost);
  for (;;) {
    Remote fresh;
    proto::HelloResult result;
    if (resume_session(fresh, left, auth_key_, client_name_, window_, result) != CUDA_SUCCESS) break;
    opened(result);  // before its strings, in the reply buffer, are overwritten
    const std::string now = fresh.server_name();
    if (const CUresult r = replay_record(fresh); r != CUDA_SUCCESS) {
      RRTO_WARN("client", "re-creating the session on {} failed (CUDA error {}); trying another", now,
                static_cast<int>(r));
      if (std::erase_if(left, [&](const ConnectOptions& s) { return server_name(s) == now; }) == 0) break;
      continue;
    }
    remote.attach(fresh.detach(), now);
    watch(remote);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    RRTO_WARN("client", "session re-created on {} in {} ms ({} calls, {} bytes re-sent); its server {} was lost",
              now, ms.count(), record_.calls(), record_.bytes(), lost);
    return true;
  }
  RRTO_ERROR("client", "no server of the cluster could take the session lost with {}", lost);
  return false;
}

}  // namespace rrto::client

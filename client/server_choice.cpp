#include "client/server_choice.h"

#include <algorithm>

#include <fmt/format.h>

#include "client/handshake.h"
#include "common/log.h"
#include "config/config.h"

namespace rrto::client {
namespace {

using transport::ConnectOptions;


// `servers`, least loaded first (sessions per device once this one joins);
// those that do not answer a probe come last, in their order.
std::vector<ConnectOptions> by_load(const std::vector<ConnectOptions>& servers, const std::string& auth_key,
                                    std::string_view client_name) {
  struct Probed {
    ConnectOptions server;
    bool answered = false;
    uint64_t sessions = 0, devices = 1;
  };
  std::vector<Probed> probed;
  for (const ConnectOptions& server : servers) {
    Probed p{.server = server};
    Remote remote;
    proto::HelloResult load;
    std::string why;
    if (!ok(remote.connect(server, why))) {
      RRTO_INFO("client", "rrto-server at {} does not answer: {}", server_name(server), why);
    } else if (handshake(remote, auth_key, client_name, load, proto::kHelloProbe) == CUDA_SUCCESS &&
               load.server_devices > 0) {
      p = {.server = server, .answered = true, .sessions = load.server_sessions, .devices = load.server_devices};
      RRTO_INFO("client", "{}: {} sessions on {} devices", server_name(server), p.sessions, p.devices);
    }
    probed.push_back(p);
  }
  std::stable_sort(probed.begin(), probed.end(), [](const Probed& a, const Probed& b) {
    if (a.answered != b.answered) return a.answered;
    return proto::less_loaded(a.sessions, a.devices, b.sessions, b.devices);
  });
  std::vector<ConnectOptions> out;
  for (const Probed& p : probed) out.push_back(p.server);
  return out;
}

// Follows the redirect in `result`: the session opens there, or back at
// `from` when the target cannot be reached.
CUresult follow(Remote& remote, const ConnectOptions& from, const std::string& auth_key, std::string_view client_name,
                proto::HelloResult& result) {
  const std::string target(result.redirect);
  RRTO_INFO("client", "{} sends this client to {}", server_name(from), target);
  ConnectOptions to = from;
  if (config::ServerAddress address; config::parse_host_port(target, address)) {
    to.host = address.host;
    to.port = address.port;
  }
  std::string why;
  if (ok(remote.connect(to, why)) &&
      handshake(remote, auth_key, client_name, result, proto::kHelloRedirected) == CUDA_SUCCESS)
    return CUDA_SUCCESS;
  RRTO_WARN("client", "{}, where {} sent this client, does not take it{}: staying", target, server_name(from),
            why.empty() ? "" : " (" + why + ")");
  if (!ok(remote.connect(from, why))) {
    RRTO_ERROR("client", "cannot reach rrto-server at {} again: {}", server_name(from), why);
    return CUDA_ERROR_NO_DEVICE;
  }
  return handshake(remote, auth_key, client_name, result, proto::kHelloRedirected);
}

std::vector<ConnectOptions> in_order(const std::vector<ConnectOptions>& servers, const std::string& auth_key,
                                     std::string_view client_name) {
  return servers.size() > 1 ? by_load(servers, auth_key, client_name) : servers;
}

}  // namespace

CUresult open_session(Remote& remote, const std::vector<ConnectOptions>& servers, bool servers_given,
                      const std::string& auth_key, std::string_view client_name, proto::HelloResult& result) {
  const std::vector<ConnectOptions> ordered = in_order(servers, auth_key, client_name);
  std::string failures;  // "host:port: why; ..."
  std::string why;
  for (size_t i = 0; i < ordered.size(); ++i) {
    if (!ok(remote.connect(ordered[i], why))) {
      const std::string name = server_name(ordered[i]);
      if (i + 1 < ordered.size()) RRTO_INFO("client", "rrto-server at {}: {}; trying the next", name, why);
      failures += fmt::format("{}{}: {}", failures.empty() ? "" : "; ", name, why);
      continue;
    }
    if (const CUresult r = handshake(remote, auth_key, client_name, result); r != CUDA_SUCCESS) return r;
    if (result.redirect.empty()) return CUDA_SUCCESS;
    return follow(remote, ordered[i], auth_key, client_name, result);
  }
  if (ordered.size() == 1) failures = fmt::format("{}: is rrto-server running at {}?", why, server_name(ordered[0]));
  RRTO_ERROR("client", "cannot reach rrto-server: {}{}", failures,
             servers_given ? "" : " (RRTO_SERVER=host:port names another server)");
  return CUDA_ERROR_NO_DEVICE;
}

CUresult resume_session(Remote& remote, const std::vector<ConnectOptions>& servers, const std::string& auth_key,
                        std::string_view client_name, uint64_t window, proto::HelloResult& result) {
  CUresult last = CUDA_ERROR_NO_DEVICE;
  for (const ConnectOptions& server : in_order(servers, auth_key, client_name)) {
    std::string why;
    if (!ok(remote.connect(server, why))) {
      RRTO_INFO("client", "rrto-server at {} cannot take the session: {}", server_name(server), why);
      continue;
    }
    last = handshake(remote, auth_key, client_name, result, proto::kHelloResume, window);
    if (last == CUDA_SUCCESS) return last;
  }
  return last;
}

}  // namespace rrto::client

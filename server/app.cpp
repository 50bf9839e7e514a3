#include "server/app.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>

#include <fmt/format.h>

#include "common/log.h"
#include "server/cluster/membership.h"
#include "server/devices.h"
#include "server/reply_sink.h"
#include "server/session_manager.h"
#include "server/status/status_query.h"
#include "server/status/status_service.h"
#include "transport/transport.h"

namespace rrto::server {
namespace {

constexpr const char* kLog = "server";

std::atomic<transport::Server*> running_server{nullptr};
std::atomic<SessionManager*> running_sessions{nullptr};
std::atomic<DeviceSet*> running_devices{nullptr};

// SIGINT stops at once. SIGTERM drains (SessionManager::drain): the
// sessions' clients move to other servers without an error; a second
// SIGTERM stops at once.
void on_stop_signal(int signal) {
  static std::atomic<bool> draining{false};
  SessionManager* sessions = running_sessions.load();
  if (signal == SIGTERM && sessions && !draining.exchange(true)) {
    sessions->drain();
    return;
  }
  // All three are async-signal-safe.
  if (sessions) sessions->mark_stopping();
  if (DeviceSet* devices = running_devices.load()) devices->stop_kernels();
  if (transport::Server* server = running_server.load()) server->stop();
}

void install_signal_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

// Written to a temporary name and renamed, so a reader never sees half of it.
SessionPolicy session_policy(const config::ServerConfig& cfg) {
  SessionPolicy policy;
  policy.auth_key = cfg.auth_key;
  policy.max_sessions = cfg.limits.max_sessions;
  policy.max_message_bytes = cfg.limits.max_message_mb << 20;
  policy.session = {.memory_bytes = cfg.limits.session_memory_mb << 20,
                    .module_bytes = cfg.limits.session_module_mb << 20,
                    .template_bytes = cfg.limits.session_template_mb << 20,
                    .handles = cfg.limits.session_handles};
  policy.hello_timeout = std::chrono::seconds(cfg.limits.hello_timeout_s);
  parse_placement(cfg.placement, policy.placement);  // the config allows only valid names
  for (const auto& w : cfg.weights) policy.weights.emplace_back(w.client, w.weight);
  return policy;
}

bool write_port_file(const std::string& path, uint16_t port) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << port << '\n';
    if (!out.flush()) return false;
  }
  return std::rename(temporary.c_str(), path.c_str()) == 0;
}

ServerIdentity identify(const config::ServerConfig& cfg, const DeviceSet& devices, uint16_t port) {
  ServerIdentity identity;
  identity.version = RRTO_VERSION;
  identity.backend = devices.backend_name();
  identity.listen = config::format_host_port({cfg.listen_address, port});
  for (Device* device : devices.devices())
    identity.devices.push_back({.name = device->description().name, .memory_total = device->description().total_memory});
  return identity;
}

// Without a key, whoever reaches the port runs code on this machine (host
// kernels, device memory): only loopback is served that way unless the
// operator says otherwise.
bool check_exposure(const config::ServerConfig& cfg, bool insecure, std::string& error) {
  if (!cfg.auth_key.empty() || config::is_loopback(cfg.listen_address)) return true;
  const std::string address = config::format_host_port({cfg.listen_address, cfg.port});
  if (insecure) {
    RRTO_WARN(kLog, "listening on {} without an auth key (--insecure): every client that reaches it is served",
              address);
    return true;
  }
  error = fmt::format(
      "refusing to listen on {} without an auth key. Set one (\"auth\": {{\"key\": ...}} in the config, or "
      "RRTO_AUTH_KEY; at least {} characters, e.g. from `openssl rand -hex 32`), listen on a loopback address "
      "(--listen 127.0.0.1:PORT), or pass --insecure to serve anyone who can reach this address",
      address, config::kMinAuthKeyLength);
  return false;
}

// Joins the cluster of the config, if any, as reachable at `port`.
std::unique_ptr<cluster::Membership> join_cluster(const config::ServerConfig& cfg, const DeviceSet& devices,
                                                  const SessionManager& sessions, uint16_t port) {
  if (!cfg.cluster) return nullptr;
  config::ServerAddress address = cfg.cluster->advertise.value_or(config::ServerAddress{cfg.listen_address, port});
  if (!cfg.cluster->advertise && (address.host == "0.0.0.0" || address.host == "::"))
    RRTO_WARN(kLog, "cluster: listening on every address, so clients are sent to {}: set cluster.advertise",
              address.host);
  uint64_t total_memory = 0;
  for (Device* device : devices.devices()) total_memory += device->description().total_memory;
  const Metrics& metrics = sessions.metrics();
  auto sample = [&metrics, &sessions, total_memory] {
    cluster::LoadSample s;
    s.devices = metrics.device_count();
    s.total_memory = total_memory;
    for (uint64_t window : sessions.windows_held()) s.windows.push_back(window);
    for (size_t i = 0; i < metrics.device_count(); ++i) {
      const DeviceMetricValues d = metrics.read_device(i);
      s.memory_in_use += d.memory_bytes;
      s.sessions += d.sessions;
      s.busy_ns += d.busy_ns;
    }
    return s;
  };
  return std::make_unique<cluster::Membership>(*cfg.cluster, config::format_host_port(address), sample);
}

}  // namespace

int print_status(const Options& options) {
  std::string table, error;
  const Status s = query_status_table(options.status, table, error);
  if (s == Status::InvalidArgument) {
    fmt::print(stderr, "rrto-server: {}\n", error);
    return kExitBadUsage;
  }
  if (!ok(s)) {
    fmt::print(stderr, "rrto-server: {}\n", error);
    return kExitFailure;
  }
  fmt::print("{}", table);
  return kExitOk;
}

bool load_config(const Options& options, config::ServerConfig& cfg, std::string& error) {
  config::ConfigError err;
  if (!options.config_path.empty() && !config::load_server_config(options.config_path, cfg, err)) {
    error = err.text();
    return false;
  }
  if (!config::apply_server_env(cfg, err)) {
    error = err.text();
    return false;
  }
  if (!options.listen.empty()) {
    config::ServerAddress address;
    if (!config::parse_host_port(options.listen, address)) {
      error = fmt::format("--listen '{}' is not ADDR:PORT", options.listen);
      return false;
    }
    cfg.listen_address = address.host;
    cfg.port = address.port;
  }
  if (!options.backend.empty()) cfg.backend = options.backend;
  return check_exposure(cfg, options.insecure, error);
}

int run_server(const Options& options) {
  config::ServerConfig cfg;
  std::string error;
  if (!load_config(options, cfg, error)) {
    fmt::print(stderr, "rrto-server: {}\n", error);
    return kExitBadUsage;
  }
  transport::LinkProfile link;
  if (!ok(transport::parse_link(cfg.link, link, error))) {
    fmt::print(stderr, "rrto-server: link emulation '{}': {}\n", cfg.link, error);
    return kExitBadUsage;
  }

  std::unique_ptr<DeviceSet> devices;
  if (!ok(open_devices(cfg, devices, error))) {
    fmt::print(stderr, "rrto-server: {}\n", error);
    return kExitFailure;
  }
  SessionManager sessions(devices->devices(), session_policy(cfg));

  std::unique_ptr<transport::Server> server;
  const transport::ListenOptions listen{
      .address = cfg.listen_address, .port = cfg.port, .link = link, .max_connections = cfg.limits.max_connections,
      .shared_memory = cfg.local_shared_memory};
  if (Status s = transport::Server::listen(listen, sessions, server); !ok(s)) {
    fmt::print(stderr, "rrto-server: cannot listen on {}: {}\n",
               config::format_host_port({cfg.listen_address, cfg.port}), status_name(s));
    return kExitFailure;
  }
  TransportReplySink sink(*server);
  sessions.set_sink(sink);
  sessions.on_drained([&server, &sessions] {
    sessions.mark_stopping();
    server->stop();
  });
  std::unique_ptr<StatusService> status;
  if (cfg.status_listen) {
    if (!ok(StatusService::start(*cfg.status_listen, identify(cfg, *devices, server->port()), sessions, status, error))) {
      fmt::print(stderr, "rrto-server: {}\n", error);
      return kExitFailure;
    }
    RRTO_INFO(kLog, "status: /metrics and /status on http://{}", status->address());
  }
  if (!options.port_file.empty() && !write_port_file(options.port_file, server->port())) {
    fmt::print(stderr, "rrto-server: cannot write the port file {}\n", options.port_file);
    return kExitFailure;
  }
  if (!options.status_port_file.empty() && (!status || !write_port_file(options.status_port_file, status->port()))) {
    fmt::print(stderr, "rrto-server: cannot write the status port file {}{}\n", options.status_port_file,
               status ? "" : " (no status endpoint: set status.listen)");
    return kExitFailure;
  }

  running_sessions.store(&sessions);
  running_devices.store(devices.get());
  running_server.store(server.get());
  install_signal_handlers();
  RRTO_INFO(kLog, "listening on {} ({} backend, {} device(s){}{})",
            config::format_host_port({cfg.listen_address, server->port()}), devices->backend_name(),
            devices->devices().size(), cfg.auth_key.empty() ? ", no auth key" : ", auth key required",
            cfg.local_shared_memory ? ", shared memory for local clients" : "");
  std::unique_ptr<cluster::Membership> membership = join_cluster(cfg, *devices, sessions, server->port());
  if (membership) sessions.set_cluster(*membership);
  const Status served = server->run();
  if (membership) membership->leave();
  running_server.store(nullptr);
  running_sessions.store(nullptr);
  running_devices.store(nullptr);
  devices->stop_kernels();

  RRTO_INFO(kLog, "stopping: ending {} session(s)", sessions.session_count());
  sessions.end_all("server shutdown");
  server.reset();
  if (!ok(served)) {
    RRTO_ERROR(kLog, "the transport stopped with {}", status_name(served));
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace rrto::server

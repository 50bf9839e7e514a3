// RRTO configuration: the server's and the client's JSON files, and the
// environment variables that override single fields. The schema for users is
// config/README.md.
//
// Loading is strict: an unknown field, a wrong type, a missing required field
// or an out-of-range value makes the call return false with a ConfigError that
// names the file and the field. Nothing here throws.
//
// Typical use:
//   ServerConfig cfg;                       // defaults
//   ConfigError err;
//   if (!load_server_config(path, cfg, err) || !apply_server_env(cfg, err)) {
//     fmt::print(stderr, "rrto-server: {}\n", err.text());
//     return 2;
//   }
#pragma once

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rrto::config {

// How the server puts sessions on devices.
inline constexpr std::string_view kPlacements[] = {"spread", "pack"};

// The client's execution modes (RRTO_MODE), in the order of client::Mode.
inline constexpr std::string_view kClientModes[] = {"rpc", "async", "replay"};
// When uploads go compressed: when it saves time on the link, never, always.
inline constexpr std::string_view kCompressionModes[] = {"auto", "off", "always"};
inline constexpr std::string_view kSpeculationModes[] = {"auto", "off", "always"};

inline constexpr uint16_t kDefaultPort = 18515;
// The shortest auth key accepted (files and environment): a guessable key proves nothing.
inline constexpr size_t kMinAuthKeyLength = 16;

struct ConfigError {
  std::string file;     // the file as given, or "environment"
  std::string field;    // JSON path ("devices[1].memory_mb") or variable name; empty for the whole file
  std::string message;  // what is wrong ("expected an integer, got string")

  // "FILE: field 'devices[1].memory_mb': expected an integer, got string"
  // "environment: variable 'RRTO_MODE': expected one of rpc, async, replay, got 'fast'"
  // "FILE: invalid JSON at line 3, column 5: ..."
  std::string text() const;
};

// The largest HostDeviceConfig::time_scale_us: a second per thread block.
inline constexpr double kMaxTimeScaleUs = 1e6;
// The range of ServerConfig::Limits::kernel_time_limit_s: a millisecond to a day.
inline constexpr double kMinKernelTimeLimitS = 0.001;
inline constexpr double kMaxKernelTimeLimitS = 86400;

struct HostDeviceConfig {
  uint64_t memory_mb = 4096;
  std::string name = "RRTO host device";
  // Simulated device time: a launch of G thread blocks keeps the device busy
  // for G x time_scale_us microseconds, its CPU run included. 0 = off.
  double time_scale_us = 0;
};

struct ServerAddress {
  std::string host;  // a name or address; an IPv6 address without brackets
  uint16_t port = kDefaultPort;
};

struct ServerConfig {
  std::string listen_address = "127.0.0.1";  // anything else needs an auth key (or --insecure)
  uint16_t port = kDefaultPort;  // 0 = any free port
  std::string backend = "host";  // "host" | "cuda"
  // host backend: the emulated devices. One default device unless a file
  // names them; empty with the cuda backend.
  std::vector<HostDeviceConfig> devices{HostDeviceConfig{}};
  std::vector<int> cuda_devices;  // cuda backend: ordinals to use (empty = all)
  // Absolute paths. Relative entries in a file are relative to the file's
  // directory; relative entries in RRTO_HOST_KERNELS to the current directory.
  std::vector<std::string> host_kernel_libraries;
  // Each bounds what one client can make the server spend; 0 = no bound of
  // its own (session_memory_mb: the device's memory).
  struct Limits {
    uint32_t max_sessions = 64;
    uint32_t max_connections = 256;  // open at once, admitted or not
    uint64_t hello_timeout_s = 10;   // from connecting to an accepted Hello
    uint64_t max_message_mb = 1024;
    uint64_t session_memory_mb = 4096;
    uint64_t session_module_mb = 1024;
    uint64_t session_template_mb = 256;
    uint64_t session_handles = 65536;
    // host backend: how long one kernel may run before its session fails
    // with CUDA_ERROR_LAUNCH_TIMEOUT.
    double kernel_time_limit_s = 60;
  } limits;
  std::string auth_key;  // empty = no auth; clients must prove they know it (protocol/handshake.h)
  std::string link;        // link emulation spec, opaque here ("rtt=5ms,bw=100mbit", a preset name)
  // Whether clients on this host may reach the server through shared memory
  // (faster; but one local client that dies mid-message stalls the others):
  // for trusted local clients only.
  bool local_shared_memory = false;
  std::string placement = "spread";  // one of kPlacements: how sessions are put on devices
  // A client's share of its device's time relative to others (default 1), by
  // the program name its Hello gives.
  struct ClientWeight {
    std::string client;
    uint32_t weight = 1;
  };
  std::vector<ClientWeight> weights;
  // The HTTP status endpoint (/metrics, /status); none when empty. A bare
  // port in the file or RRTO_STATUS_LISTEN means the loopback address.
  std::optional<ServerAddress> status_listen;
  // Membership of an edge cluster through etcd (server/cluster/); none when
  // absent.
  struct Cluster {
    std::vector<ServerAddress> etcd;  // members of the etcd cluster, tried in turn
    std::string name;                 // this server's name in the cluster, unique there
    // Where clients reach this server; the listen address and port when absent.
    std::optional<ServerAddress> advertise;
    uint64_t lease_ttl_s = 5;  // how long after its last refresh a silent server leaves
  };
  std::optional<Cluster> cluster;
};

inline constexpr uint64_t kMinTimeoutSeconds = 5;
inline constexpr uint64_t kMaxTimeoutSeconds = 24 * 3600;

struct ClientConfig {
  // The edge cluster: one or more servers.
  std::vector<ServerAddress> servers{ServerAddress{"127.0.0.1", kDefaultPort}};
  // False while `servers` is the default: neither RRTO_SERVER nor a file named one.
  bool servers_given = false;
  std::string mode = "replay";  // one of kClientModes
  std::string link;            // link emulation spec, opaque here
  std::string auth_key;  // empty: none; needed by a server that has one
  // How long a call waits without a word from the server (its reply, or its
  // heartbeats while the work runs) before the server counts as lost; 0:
  // for ever. At least kMinTimeoutSeconds otherwise (well above the heartbeats' 250 ms).
  uint64_t timeout_s = 30;
  bool stats = false;
  std::string trace_path;  // empty = no trace; absolute when it came from a file or RRTO_TRACE
  // Re-creating the session on another server when its server is lost
  // ("failover": {"enabled", "max_log_mb"}).
  bool failover = true;
  uint64_t failover_max_log_mb = 512;  // what the client keeps to re-create it
  // Compressed uploads ("compression": {"mode", "uplink_mbit"}): the mode
  // (one of kCompressionModes), and the link's upload speed when it is known
  // (0: only an emulated link's says).
  std::string compression = "auto";
  uint64_t uplink_mbit = 0;
  // Replay's speculative continuation past a synchronisation point (one of
  // kSpeculationModes): "auto" where it pays, "off", "always" even where
  // saving costs more than the round trip it saves.
  std::string speculation = "auto";
};

// Files. On success `out` becomes the file's contents over the defaults (not
// over what `out` held); on failure `out` is left unchanged and `err` says why.
bool load_server_config(const std::string& path, ServerConfig& out, ConfigError& err);
bool load_client_config(const std::string& path, ClientConfig& out, ConfigError& err);

// The same from text: `origin` names the text in errors, relative paths
// resolve against `base_dir` (the current directory when empty).
bool parse_server_config(std::string_view json_text, const std::string& origin,
                         const std::string& base_dir, ServerConfig& out, ConfigError& err);
bool parse_client_config(std::string_view json_text, const std::string& origin,
                         const std::string& base_dir, ClientConfig& out, ConfigError& err);

// Environment overrides, applied after the file (or over the defaults when
// there is no file). A variable that is unset or empty changes nothing.
//   server: RRTO_LISTEN, RRTO_BACKEND, RRTO_HOST_KERNELS, RRTO_LINK, RRTO_AUTH_KEY, RRTO_STATUS_LISTEN
//   client: RRTO_SERVER, RRTO_MODE, RRTO_LINK, RRTO_AUTH_KEY, RRTO_STATS, RRTO_TRACE, RRTO_FAILOVER
// A bad value returns false with err.file = "environment", err.field = the
// variable, and `cfg` unchanged (no variable is applied).
using GetEnv = std::function<const char*(const char*)>;
inline const char* system_getenv(const char* name) { return std::getenv(name); }

bool apply_server_env(ServerConfig& cfg, ConfigError& err, const GetEnv& getenv = system_getenv);
bool apply_client_env(ClientConfig& cfg, ConfigError& err, const GetEnv& getenv = system_getenv);

// "host:port" or "[v6addr]:port"; port 0..65535, decimal. The host comes back
// without brackets. False (and `out` unchanged) when malformed.
bool parse_host_port(std::string_view text, ServerAddress& out);

// "host:port" again, with brackets around an IPv6 address.
std::string format_host_port(const ServerAddress& address);
// Whether a host names this machine only: localhost, ::1, 127.x.x.x.
bool is_loopback(std::string_view host);

}  // namespace rrto::config

// Environment variables that override single fields of a loaded config.
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <span>

#include "config/config.h"
#include "config/internal.h"

namespace rrto::config {

namespace {

// Reads variables through the caller's getenv; unset and empty are the same.
class Env {
 public:
  Env(const GetEnv& getenv, ConfigError& err) : getenv_(getenv), err_(err) {}

  const char* get(const char* name) const {
    const char* value = getenv_ ? getenv_(name) : nullptr;
    return value && *value ? value : nullptr;
  }
  bool fail(const char* name, std::string message) {
    err_ = {"environment", name, std::move(message)};
    return false;
  }
  bool read_enum(const char* name, std::span<const std::string_view> allowed, std::string& out) {
    const char* v = get(name);
    if (!v) return true;
    if (std::find(allowed.begin(), allowed.end(), std::string_view(v)) == allowed.end()) {
      return fail(name, fmt::format("expected one of {}, got '{}'", fmt::join(allowed, ", "), v));
    }
    out = v;
    return true;
  }
  void read_string(const char* name, std::string& out) {
    if (const char* v = get(name)) out = v;
  }
  // Seconds, 0 or within [kMinTimeoutSeconds, kMaxTimeoutSeconds].
  bool read_timeout(const char* name, uint64_t& out) {
    const char* v = get(name);
    if (!v) return true;
    char* end = nullptr;
    errno = 0;
    const unsigned long long n = std::strtoull(v, &end, 10);
    if (*end != '\0' || errno != 0 || *v == '-' || (n != 0 && (n < kMinTimeoutSeconds || n > kMaxTimeoutSeconds)))
      return fail(name, fmt::format("expected 0 (no timeout) or seconds from {} to {}, got '{}'", kMinTimeoutSeconds,
                                    kMaxTimeoutSeconds, v));
    out = n;
    return true;
  }
  // 1 or true, 0 or false.
  bool read_switch(const char* name, bool& out) {
    const char* v = get(name);
    if (!v) return true;
    const std::string_view s(v);
    if (s != "1" && s != "true" && s != "0" && s != "false")
      return fail(name, fmt::format("expected 1 or 0, got '{}'", s));
    out = s == "1" || s == "true";
    return true;
  }
  bool read_auth_key(std::string& out) {
    const char* v = get("RRTO_AUTH_KEY");
    if (!v) return true;
    if (std::string why = detail::auth_key_problem(v); !why.empty()) return fail("RRTO_AUTH_KEY", why);
    out = v;
    return true;
  }

 private:
  const GetEnv& getenv_;
  ConfigError& err_;
};

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool server_env(ServerConfig& cfg, Env& env) {
  if (const char* v = env.get("RRTO_LISTEN")) {
    ServerAddress address;
    std::string why = detail::host_port_problem(v, address);
    if (!why.empty()) return env.fail("RRTO_LISTEN", fmt::format("expected host:port, got '{}': {}", v, why));
    cfg.listen_address = address.host;
    cfg.port = address.port;
  }
  std::string backend = cfg.backend;
  if (!env.read_enum("RRTO_BACKEND", detail::kBackends, backend)) return false;
  if (backend != cfg.backend) {
    cfg.backend = backend;
    detail::settle_backend(cfg);
  }
  if (const char* v = env.get("RRTO_HOST_KERNELS")) {
    for (std::string_view library : split(v, ':')) {
      if (!library.empty()) cfg.host_kernel_libraries.push_back(detail::resolve_path(std::string(library), ""));
    }
  }
  env.read_string("RRTO_LINK", cfg.link);
  if (!env.read_auth_key(cfg.auth_key)) return false;
  if (!env.read_switch("RRTO_LOCAL_SHARED_MEMORY", cfg.local_shared_memory)) return false;
  if (const char* v = env.get("RRTO_STATUS_LISTEN")) {
    ServerAddress address;
    std::string why = detail::status_listen_problem(v, address);
    if (!why.empty()) return env.fail("RRTO_STATUS_LISTEN", fmt::format("expected host:port or a port, got '{}': {}", v, why));
    cfg.status_listen = address;
  }
  return true;
}

bool client_env(ClientConfig& cfg, Env& env) {
  if (const char* v = env.get("RRTO_SERVER")) {
    std::vector<ServerAddress> servers;
    for (std::string_view entry : split(v, ',')) {
      entry = trim(entry);
      ServerAddress address;
      std::string why = detail::server_address_problem(entry, address);
      if (!why.empty()) {
        return env.fail("RRTO_SERVER", fmt::format("expected host:port[,host:port...], got '{}': {}", entry, why));
      }
      for (const ServerAddress& s : servers) {
        if (s.host == address.host && s.port == address.port) {
          return env.fail("RRTO_SERVER", fmt::format("'{}' is listed twice", entry));
        }
      }
      servers.push_back(std::move(address));
    }
    cfg.servers = std::move(servers);
    cfg.servers_given = true;
  }
  if (!env.read_enum("RRTO_MODE", detail::kModes, cfg.mode)) return false;
  if (!env.read_enum("RRTO_COMPRESSION", kCompressionModes, cfg.compression)) return false;
  env.read_string("RRTO_LINK", cfg.link);
  if (!env.read_auth_key(cfg.auth_key)) return false;
  if (!env.read_timeout("RRTO_TIMEOUT", cfg.timeout_s)) return false;
  if (!env.read_switch("RRTO_STATS", cfg.stats) || !env.read_switch("RRTO_FAILOVER", cfg.failover)) return false;
  if (!env.read_enum("RRTO_SPECULATION", kSpeculationModes, cfg.speculation)) return false;
  if (const char* v = env.get("RRTO_TRACE")) cfg.trace_path = detail::resolve_path(v, "");
  return true;
}

}  // namespace

bool apply_server_env(ServerConfig& cfg, ConfigError& err, const GetEnv& getenv) {
  return detail::no_throw(err, "environment", [&] {
    ServerConfig updated = cfg;  // all or nothing
    Env env(getenv, err);
    if (!server_env(updated, env)) return false;
    cfg = std::move(updated);
    return true;
  });
}

bool apply_client_env(ClientConfig& cfg, ConfigError& err, const GetEnv& getenv) {
  return detail::no_throw(err, "environment", [&] {
    ClientConfig updated = cfg;
    Env env(getenv, err);
    if (!client_env(updated, env)) return false;
    cfg = std::move(updated);
    return true;
  });
}

}  // namespace rrto::config

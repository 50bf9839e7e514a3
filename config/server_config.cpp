// The server's file: listen address, backend and devices, host-kernel
// libraries, limits, auth, link emulation.
#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "config/config.h"
#include "config/internal.h"
#include "config/json_reader.h"

namespace rrto::config {

namespace {

using detail::json;
using detail::Need;
using detail::Object;
using detail::Reader;

// Sizes in MiB stay below this so that their byte counts fit in 64 bits.
constexpr uint64_t kMaxMb = (uint64_t{1} << 44) - 1;
constexpr size_t kMaxDeviceName = 255;  // cuDeviceGetName callers use 256-byte buffers
constexpr uint64_t kMaxWeight = 100;

bool read_listen(Reader& r, Object& top, ServerConfig& cfg) {
  std::string text;
  if (!top.read_string("listen", text, Need::Required)) return false;
  ServerAddress address;
  std::string why = detail::host_port_problem(text, address);
  if (!why.empty()) return r.fail(top.path("listen"), fmt::format("expected \"host:port\", got '{}': {}", text, why));
  cfg.listen_address = address.host;
  cfg.port = address.port;
  return true;
}

bool read_device(Reader& r, const json& v, const std::string& path, ServerConfig& cfg) {
  Object device(r, v, path, {"memory_mb", "name", "time_scale_us"});
  HostDeviceConfig d;
  if (!device.ok() || !device.read_uint("memory_mb", 1, kMaxMb, d.memory_mb) ||
      !device.read_string("name", d.name, Need::Optional, false) ||
      !device.read_number("time_scale_us", 0, kMaxTimeScaleUs, d.time_scale_us)) {
    return false;
  }
  if (d.name.size() > kMaxDeviceName) {
    return r.fail(device.path("name"), fmt::format("longer than {} characters", kMaxDeviceName));
  }
  cfg.devices.push_back(std::move(d));
  return true;
}

bool read_devices(Reader& r, Object& top, ServerConfig& cfg) {
  if (!top.has("devices")) return true;
  if (cfg.backend != "host") return r.fail(top.path("devices"), "only for backend 'host' (cuda uses cuda_devices)");
  cfg.devices.clear();
  return top.read_array("devices", 1, [&](const json& v, const std::string& path) {
    return read_device(r, v, path, cfg);
  });
}

bool read_weights(Reader& r, Object& top, ServerConfig& cfg) {
  return top.read_array("weights", 0, [&](const json& v, const std::string& path) {
    Object entry(r, v, path, {"client", "weight"});
    ServerConfig::ClientWeight w;
    uint64_t weight = 1;
    if (!entry.ok() || !entry.read_string("client", w.client, Need::Required, false) ||
        !entry.read_uint("weight", 1, kMaxWeight, weight, Need::Required))
      return false;
    w.weight = static_cast<uint32_t>(weight);
    cfg.weights.push_back(std::move(w));
    return true;
  });
}

bool read_cuda_devices(Reader& r, Object& top, ServerConfig& cfg) {
  if (!top.has("cuda_devices")) return true;
  if (cfg.backend != "cuda") return r.fail(top.path("cuda_devices"), "only for backend 'cuda' (host uses devices)");
  return top.read_array("cuda_devices", 0, [&](const json& v, const std::string& path) {
    uint64_t ordinal = 0;
    if (!r.read_uint(v, path, 0, std::numeric_limits<int>::max(), ordinal)) return false;
    int o = static_cast<int>(ordinal);
    if (std::find(cfg.cuda_devices.begin(), cfg.cuda_devices.end(), o) != cfg.cuda_devices.end()) {
      return r.fail(path, fmt::format("device {} is listed twice", o));
    }
    cfg.cuda_devices.push_back(o);
    return true;
  });
}

bool read_libraries(Reader& r, Object& top, const std::string& base_dir, ServerConfig& cfg) {
  return top.read_array("host_kernel_libraries", 0, [&](const json& v, const std::string& path) {
    std::string library;
    if (!r.read_string(v, path, library, false)) return false;
    cfg.host_kernel_libraries.push_back(detail::resolve_path(library, base_dir));
    return true;
  });
}

bool read_limits(Object& top, ServerConfig::Limits& limits) {
  const std::initializer_list<std::string_view> fields = {
      "max_sessions",      "max_connections",   "hello_timeout_s",     "max_message_mb",
      "session_memory_mb", "session_module_mb", "session_template_mb", "session_handles", "kernel_time_limit_s"};
  return top.read_object("limits", fields, [&](Object& o) {
    uint64_t sessions = limits.max_sessions, connections = limits.max_connections;
    if (!o.read_uint("max_sessions", 1, std::numeric_limits<uint32_t>::max(), sessions) ||
        !o.read_uint("max_connections", 1, std::numeric_limits<uint32_t>::max(), connections))
      return false;
    limits.max_sessions = static_cast<uint32_t>(sessions);
    limits.max_connections = static_cast<uint32_t>(connections);
    return o.read_uint("hello_timeout_s", 1, 3600, limits.hello_timeout_s) &&
           o.read_uint("max_message_mb", 1, kMaxMb, limits.max_message_mb) &&
           o.read_uint("session_memory_mb", 0, kMaxMb, limits.session_memory_mb) &&
           o.read_uint("session_module_mb", 0, kMaxMb, limits.session_module_mb) &&
           o.read_uint("session_template_mb", 0, kMaxMb, limits.session_template_mb) &&
           o.read_uint("session_handles", 0, std::numeric_limits<uint32_t>::max(), limits.session_handles) &&
           o.read_number("kernel_time_limit_s", kMinKernelTimeLimitS, kMaxKernelTimeLimitS, limits.kernel_time_limit_s);
  });
}

bool read_status(Reader& r, Object& top, ServerConfig& cfg) {
  return top.read_object("status", {"listen"}, [&](Object& o) {
    std::string text;
    if (!o.read_string("listen", text, Need::Required)) return false;
    ServerAddress address;
    const std::string why = detail::status_listen_problem(text, address);
    if (!why.empty())
      return r.fail(o.path("listen"), fmt::format("expected \"host:port\" or a port, got '{}': {}", text, why));
    cfg.status_listen = address;
    return true;
  });
}

bool read_cluster(Reader& r, Object& top, ServerConfig& cfg) {
  return top.read_object("cluster", {"etcd", "name", "advertise", "lease_ttl_s"}, [&](Object& o) {
    ServerConfig::Cluster cluster;
    std::string advertise;
    if (!detail::read_address_list(r, o, "etcd", Need::Required, cluster.etcd) ||
        !o.read_string("name", cluster.name, Need::Required, false) ||
        !o.read_string("advertise", advertise, Need::Optional) ||
        !o.read_uint("lease_ttl_s", 2, 3600, cluster.lease_ttl_s))
      return false;
    if (cluster.name.find('/') != std::string::npos)
      return r.fail(o.path("name"), fmt::format("'{}': a name cannot hold '/'", cluster.name));
    if (!advertise.empty()) {
      ServerAddress address;
      const std::string why = detail::server_address_problem(advertise, address);
      if (!why.empty())
        return r.fail(o.path("advertise"), fmt::format("expected \"host:port\", got '{}': {}", advertise, why));
      cluster.advertise = address;
    }
    cfg.cluster = std::move(cluster);
    return true;
  });
}

bool parse_server(std::string_view text, const std::string& origin, const std::string& base_dir, ServerConfig& out,
                  ConfigError& err) {
  json doc;
  if (!detail::parse_json(text, origin, doc, err)) return false;
  Reader r(origin, err);
  Object top(r, doc, "",
             {"description", "listen", "backend", "devices", "cuda_devices", "host_kernel_libraries", "limits", "auth",
              "link", "local_shared_memory", "placement", "weights", "status", "cluster"});
  ServerConfig cfg;
  std::string description;  // free text for people; not used
  bool ok = top.ok() && top.read_string("description", description, Need::Optional) && read_listen(r, top, cfg) &&
            top.read_enum("backend", detail::kBackends, cfg.backend, Need::Required) && read_devices(r, top, cfg) &&
            read_cuda_devices(r, top, cfg) && read_libraries(r, top, base_dir, cfg) && read_limits(top, cfg.limits) &&
            detail::read_auth(r, top, cfg.auth_key) && top.read_string("link", cfg.link, Need::Optional) &&
            top.read_bool("local_shared_memory", cfg.local_shared_memory) &&
            top.read_enum("placement", kPlacements, cfg.placement, Need::Optional) && read_weights(r, top, cfg) &&
            read_status(r, top, cfg) && read_cluster(r, top, cfg);
  if (!ok) return false;
  detail::settle_backend(cfg);
  out = std::move(cfg);
  return true;
}

}  // namespace

namespace detail {

void settle_backend(ServerConfig& cfg) {
  if (cfg.backend == "cuda") {
    cfg.devices.clear();
  } else {
    cfg.cuda_devices.clear();
    if (cfg.devices.empty()) cfg.devices.emplace_back();
  }
}

}  // namespace detail

bool parse_server_config(std::string_view json_text, const std::string& origin, const std::string& base_dir,
                         ServerConfig& out, ConfigError& err) {
  return detail::no_throw(err, origin, [&] { return parse_server(json_text, origin, base_dir, out, err); });
}

bool load_server_config(const std::string& path, ServerConfig& out, ConfigError& err) {
  return detail::load_file(path, err, [&](std::string_view text, const std::string& origin, const std::string& dir) {
    return parse_server(text, origin, dir, out, err);
  });
}

}  // namespace rrto::config

// The client's file: the servers of the edge cluster, mode, link emulation,
// auth, statistics and tracing.
#include <fmt/format.h>

#include <algorithm>

#include "config/config.h"
#include "config/internal.h"
#include "config/json_reader.h"

namespace rrto::config {

namespace {

using detail::json;
using detail::Need;
using detail::Object;
using detail::Reader;

bool read_trace(Object& top, const std::string& base_dir, std::string& trace_path) {
  std::string trace;
  if (!top.read_string("trace", trace, Need::Optional, false)) return false;
  if (!trace.empty()) trace_path = detail::resolve_path(trace, base_dir);
  return true;
}

bool read_timeout(Reader& r, Object& top, uint64_t& seconds) {
  if (!top.read_uint("timeout_s", 0, kMaxTimeoutSeconds, seconds)) return false;
  if (seconds == 0 || seconds >= kMinTimeoutSeconds) return true;
  return r.fail(top.path("timeout_s"),
                fmt::format("{} s is too short: 0 (no timeout) or at least {} s", seconds, kMinTimeoutSeconds));
}

bool read_failover(Object& top, ClientConfig& cfg) {
  return top.read_object("failover", {"enabled", "max_log_mb"}, [&](Object& o) {
    return o.read_bool("enabled", cfg.failover) && o.read_uint("max_log_mb", 1, 1 << 20, cfg.failover_max_log_mb);
  });
}

bool read_compression(Object& top, ClientConfig& cfg) {
  return top.read_object("compression", {"mode", "uplink_mbit"}, [&](Object& o) {
    return o.read_enum("mode", kCompressionModes, cfg.compression, Need::Optional) &&
           o.read_uint("uplink_mbit", 0, 1'000'000, cfg.uplink_mbit);
  });
}

bool parse_client(std::string_view text, const std::string& origin, const std::string& base_dir, ClientConfig& out,
                  ConfigError& err) {
  json doc;
  if (!detail::parse_json(text, origin, doc, err)) return false;
  Reader r(origin, err);
  Object top(r, doc, "", {"description", "servers", "mode", "link", "auth", "timeout_s", "stats", "trace", "failover",
                                 "compression", "speculation"});
  ClientConfig cfg;
  cfg.servers_given = true;  // "servers" is required
  std::string description;  // free text for people; not used
  bool ok = top.ok() && top.read_string("description", description, Need::Optional) && detail::read_address_list(r, top, "servers", Need::Required, cfg.servers) &&
            top.read_enum("mode", detail::kModes, cfg.mode, Need::Optional) &&
            top.read_string("link", cfg.link, Need::Optional) &&
            detail::read_auth(r, top, cfg.auth_key) && read_timeout(r, top, cfg.timeout_s) &&
            top.read_bool("stats", cfg.stats) && read_trace(top, base_dir, cfg.trace_path) && read_failover(top, cfg) &&
            read_compression(top, cfg) && top.read_enum("speculation", kSpeculationModes, cfg.speculation, Need::Optional);
  if (!ok) return false;
  out = std::move(cfg);
  return true;
}

}  // namespace

bool parse_client_config(std::string_view json_text, const std::string& origin, const std::string& base_dir,
                         ClientConfig& out, ConfigError& err) {
  return detail::no_throw(err, origin, [&] { return parse_client(json_text, origin, base_dir, out, err); });
}

bool load_client_config(const std::string& path, ClientConfig& out, ConfigError& err) {
  return detail::load_file(path, err, [&](std::string_view text, const std::string& origin, const std::string& dir) {
    return parse_client(text, origin, dir, out, err);
  });
}

}  // namespace rrto::config

// Internal helpers shared by the config sources (not part of the API).
#pragma once

#include <exception>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace rrto::config::detail {

// Accepted values of the enumerated fields, in the order messages list them.
inline constexpr std::string_view kBackends[] = {"host", "cuda"};
inline constexpr std::span<const std::string_view> kModes = kClientModes;

// host_port.cpp. Empty when `text` is a valid "host:port"; otherwise why not.
std::string host_port_problem(std::string_view text, ServerAddress& out);
// The same for a server a client connects to (port 0 is not allowed).
std::string server_address_problem(std::string_view text, ServerAddress& out);

// The same for the status endpoint: a bare port means kStatusLoopback, so
// that only an address written out serves the status beyond this machine.
inline constexpr std::string_view kStatusLoopback = "127.0.0.1";
std::string status_listen_problem(std::string_view text, ServerAddress& out);

// auth_key.cpp. Empty when `key` is long enough; otherwise why not (never the key).
std::string auth_key_problem(std::string_view key);
class Reader;
class Object;
enum class Need;
// The "auth": {"key": ...} object of a file.
bool read_auth(Reader& r, Object& top, std::string& key);

// address_list.cpp: `key`, an array of distinct "host:port" strings (at least
// one), into `out` (left unchanged when the key is absent).
bool read_address_list(Reader& r, Object& o, std::string_view key, Need need, std::vector<ServerAddress>& out);

// paths.cpp.
bool read_text_file(const std::string& path, std::string& out, std::string& why);
// The absolute directory holding `path`.
std::string directory_of(const std::string& path);
// `path` made absolute against `base_dir` (the current directory when empty),
// lexically normalised.
std::string resolve_path(const std::string& path, const std::string& base_dir);

// server_config.cpp. After the backend is chosen: the host backend gets one
// default device when it has none, and each backend drops the other's devices.
void settle_backend(ServerConfig& cfg);

// Runs `body` and turns any exception (bad_alloc, filesystem errors) into a
// ConfigError, so that none leaves the API.
template <typename Body>
bool no_throw(ConfigError& err, const std::string& origin, Body&& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    err = {origin, "", std::string("internal error: ") + e.what()};
  } catch (...) {
    err = {origin, "", "internal error"};
  }
  return false;
}

// Reads the file at `path` and hands its text to parse(text, origin, base_dir).
template <typename Parse>
bool load_file(const std::string& path, ConfigError& err, Parse&& parse) {
  return no_throw(err, path, [&] {
    std::string text, why;
    if (!read_text_file(path, text, why)) {
      err = {path, "", why};
      return false;
    }
    return parse(text, path, directory_of(path));
  });
}

}  // namespace rrto::config::detail

// The shared auth key, as the files and the environment give it. Its value
// never appears in a message.
#include <fmt/format.h>

#include "config/config.h"
#include "config/internal.h"
#include "config/json_reader.h"

namespace rrto::config {

namespace detail {

std::string auth_key_problem(std::string_view key) {
  if (key.size() >= kMinAuthKeyLength) return "";
  return fmt::format("the key must be at least {} characters long (make one with: openssl rand -hex 32)",
                     kMinAuthKeyLength);
}

bool read_auth(Reader& r, Object& top, std::string& key) {
  return top.read_object("auth", {"key"}, [&](Object& o) {
    if (!o.read_string("key", key, Need::Required, false)) return false;
    const std::string why = auth_key_problem(key);
    return why.empty() || r.fail(o.path("key"), why);
  });
}

}  // namespace detail

}  // namespace rrto::config

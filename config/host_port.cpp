// "host:port" and "[v6addr]:port" addresses.
#include <fmt/format.h>

#include "config/config.h"
#include "config/internal.h"

namespace rrto::config {

namespace detail {

std::string host_port_problem(std::string_view text, ServerAddress& out) {
  std::string_view host, port;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return "missing ']' after the IPv6 address";
    host = text.substr(1, close - 1);
    if (close + 1 >= text.size() || text[close + 1] != ':') return "expected ':port' after ']'";
    port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return "missing ':port'";
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return "an IPv6 address needs brackets, e.g. [::1]:18515";
  }
  if (host.empty()) return "missing host";
  for (char c : host) {
    if (static_cast<unsigned char>(c) <= ' ' || c == ',' || c == '[' || c == ']' || c == '/' || c == 0x7f) {
      return fmt::format("the host may not contain '{}'", c);
    }
  }
  uint32_t value = 0;
  bool digits = !port.empty() && port.size() <= 5;
  for (char c : port) {
    if (c < '0' || c > '9') digits = false;
    if (digits) value = value * 10 + static_cast<uint32_t>(c - '0');
  }
  if (!digits || value > 65535) return fmt::format("the port must be a number from 0 to 65535, got '{}'", port);
  out.host = std::string(host);
  out.port = static_cast<uint16_t>(value);
  return "";
}

std::string server_address_problem(std::string_view text, ServerAddress& out) {
  ServerAddress parsed;
  std::string why = host_port_problem(text, parsed);
  if (!why.empty()) return why;
  if (parsed.port == 0) return "port 0 is not a server's port";
  out = std::move(parsed);
  return "";
}

std::string status_listen_problem(std::string_view text, ServerAddress& out) {
  const bool bare_port = !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
  if (bare_port) return host_port_problem(fmt::format("{}:{}", kStatusLoopback, text), out);
  return host_port_problem(text, out);
}

}  // namespace detail

bool parse_host_port(std::string_view text, ServerAddress& out) {
  try {
    ServerAddress parsed;
    if (!detail::host_port_problem(text, parsed).empty()) return false;
    out = std::move(parsed);
    return true;
  } catch (...) {
    return false;
  }
}

bool is_loopback(std::string_view host) {
  if (host == "localhost" || host == "::1") return true;
  return host.starts_with("127.") && host.find_first_not_of("0123456789.") == std::string_view::npos;
}

std::string format_host_port(const ServerAddress& address) {
  if (address.host.find(':') != std::string::npos) return fmt::format("[{}]:{}", address.host, address.port);
  return fmt::format("{}:{}", address.host, address.port);
}

}  // namespace rrto::config

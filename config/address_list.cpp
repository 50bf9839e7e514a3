// Lists of "host:port" addresses: the client's servers, a cluster's etcd members.
#include <algorithm>

#include <fmt/format.h>

#include "config/internal.h"
#include "config/json_reader.h"

namespace rrto::config::detail {

bool read_address_list(Reader& r, Object& o, std::string_view key, Need need, std::vector<ServerAddress>& out) {
  std::vector<ServerAddress> list;
  const bool ok = o.read_array(
      key, 1,
      [&](const json& v, const std::string& path) {
        std::string text;
        if (!r.read_string(v, path, text, false)) return false;
        ServerAddress address;
        std::string why = server_address_problem(text, address);
        if (!why.empty()) return r.fail(path, fmt::format("expected \"host:port\", got '{}': {}", text, why));
        auto same = [&](const ServerAddress& s) { return s.host == address.host && s.port == address.port; };
        if (std::any_of(list.begin(), list.end(), same)) return r.fail(path, fmt::format("'{}' is listed twice", text));
        list.push_back(std::move(address));
        return true;
      },
      need);
  if (ok && !list.empty()) out = std::move(list);
  return ok;
}

}  // namespace rrto::config::detail

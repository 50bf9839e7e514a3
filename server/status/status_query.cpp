#include "server/status/status_query.h"

#include <httplib.h>

#include <fmt/format.h>

#include "config/config.h"
#include "server/status/status_table.h"

namespace rrto::server {
namespace {

constexpr time_t kTimeoutSeconds = 5;

}  // namespace

Status query_status_table(std::string_view address, std::string& table, std::string& error) {
  config::ServerAddress where;
  if (!config::parse_host_port(address, where) || where.port == 0) {
    error = fmt::format("--status '{}' is not HOST:PORT", address);
    return Status::InvalidArgument;
  }
  httplib::Client client(where.host, where.port);
  client.set_connection_timeout(kTimeoutSeconds);
  client.set_read_timeout(kTimeoutSeconds);
  const httplib::Result reply = client.Get("/status");
  if (!reply) {
    error = fmt::format("no status endpoint at {}: {}", address, httplib::to_string(reply.error()));
    return Status::Unreachable;
  }
  if (reply->status != 200) {
    error = fmt::format("{} answered /status with HTTP {}", address, reply->status);
    return Status::ProtocolError;
  }
  if (!format_status_table(reply->body, address, table, error)) {
    error = fmt::format("{}: {}", address, error);
    return Status::ProtocolError;
  }
  return Status::Ok;
}

}  // namespace rrto::server

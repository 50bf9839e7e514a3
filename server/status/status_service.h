// The status endpoint of a running server: its counters and session board,
// fed by the session manager, served over HTTP (http_server.h).
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "config/config.h"
#include "server/metrics.h"
#include "server/session_manager.h"
#include "server/status/http_server.h"
#include "server/status/session_board.h"
#include "server/status/status_view.h"

namespace rrto::server {

class StatusService {
 public:
  // Serves at `where`; from then on `sessions` reports to it, until it is
  // destroyed (before `sessions`).
  static Status start(const config::ServerAddress& where, ServerIdentity identity, SessionManager& sessions,
                      std::unique_ptr<StatusService>& out, std::string& error);
  ~StatusService();
  StatusService(const StatusService&) = delete;
  StatusService& operator=(const StatusService&) = delete;

  // host:port, with the port bound.
  std::string address() const;
  uint16_t port() const;

 private:
  StatusService(const std::string& host, ServerIdentity identity, SessionManager& sessions);

  const std::string host_;
  SessionManager& sessions_;
  SessionBoard board_;
  StatusSource source_;
  std::unique_ptr<StatusHttpServer> http_;
};

}  // namespace rrto::server

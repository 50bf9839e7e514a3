// The status endpoint: an HTTP server on a thread of its own serving
//   GET /metrics  Prometheus text (prometheus.h)
//   GET /status   JSON (status_json.h)
// from a StatusSource. It reads counters and the session board only, so it
// never waits for, or makes wait, the thread that runs sessions.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "common/status.h"
#include "server/status/status_view.h"

namespace httplib {
class Server;
}

namespace rrto::server {

class StatusHttpServer {
 public:
  // Binds host:port (port 0: any free port) now, so that a taken port fails
  // the server's start, and serves on a new thread. `source` must outlive it.
  static Status start(const std::string& host, uint16_t port, const StatusSource& source,
                      std::unique_ptr<StatusHttpServer>& out, std::string& error);
  ~StatusHttpServer();  // stops
  StatusHttpServer(const StatusHttpServer&) = delete;
  StatusHttpServer& operator=(const StatusHttpServer&) = delete;

  uint16_t port() const { return port_; }
  // Closes the port and waits for the thread; requests in progress finish.
  void stop();

 private:
  StatusHttpServer(std::unique_ptr<httplib::Server> http, uint16_t port);
  void serve();

  std::unique_ptr<httplib::Server> http_;
  uint16_t port_ = 0;
  std::atomic<bool> finished_{false};  // the thread stopped serving
  std::thread thread_;
};

}  // namespace rrto::server

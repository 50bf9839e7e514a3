#include "server/status/http_server.h"

#include <signal.h>

#include <chrono>

#include <httplib.h>

#include <fmt/format.h>

#include "common/log.h"
#include "server/status/prometheus.h"
#include "server/status/status_json.h"

namespace rrto::server {
namespace {

constexpr const char* kLog = "status";
// Scrapes are small: two threads serve them, one request per connection, and
// a slow or idle client is dropped within a second, so that stopping the
// server (which waits for requests in progress) never waits longer.
constexpr size_t kThreads = 2;
constexpr time_t kTimeoutSeconds = 1;

void add_routes(httplib::Server& http, const StatusSource& source) {
  http.Get("/metrics", [&source](const httplib::Request&, httplib::Response& response) {
    response.set_content(render_prometheus(source.view()), std::string(kPrometheusContentType));
  });
  http.Get("/status", [&source](const httplib::Request&, httplib::Response& response) {
    response.set_content(render_status_json(source.view()), std::string(kJsonContentType));
  });
}

}  // namespace

Status StatusHttpServer::start(const std::string& host, uint16_t port, const StatusSource& source,
                               std::unique_ptr<StatusHttpServer>& out, std::string& error) {
  auto http = std::make_unique<httplib::Server>();
  http->new_task_queue = [] { return new httplib::ThreadPool(kThreads); };
  http->set_read_timeout(kTimeoutSeconds);
  http->set_write_timeout(kTimeoutSeconds);
  http->set_keep_alive_timeout(kTimeoutSeconds);
  http->set_keep_alive_max_count(1);
  add_routes(*http, source);
  const int bound = port == 0 ? http->bind_to_any_port(host) : (http->bind_to_port(host, port) ? port : -1);
  if (bound <= 0) {
    error = fmt::format("cannot listen on {}:{} for status", host, port);
    return Status::IoError;
  }
  out.reset(new StatusHttpServer(std::move(http), static_cast<uint16_t>(bound)));
  return Status::Ok;
}

StatusHttpServer::StatusHttpServer(std::unique_ptr<httplib::Server> http, uint16_t port)
    : http_(std::move(http)), port_(port) {
  thread_ = std::thread([this] { serve(); });
}

StatusHttpServer::~StatusHttpServer() { stop(); }

void StatusHttpServer::serve() {
  // Stop signals are for the main thread; this one and the pool it starts
  // (which inherits the mask) leave them alone.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  try {
    if (!http_->listen_after_bind()) RRTO_WARN(kLog, "the status endpoint stopped serving");
  } catch (const std::exception& e) {
    RRTO_ERROR(kLog, "the status endpoint failed: {}", e.what());
  }
  finished_.store(true);
}

void StatusHttpServer::stop() {
  if (!thread_.joinable()) return;
  // httplib's stop() does nothing before the thread has begun listening.
  while (!http_->is_running() && !finished_.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  http_->stop();
  thread_.join();
}

}  // namespace rrto::server

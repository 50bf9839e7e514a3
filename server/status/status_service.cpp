#include "server/status/status_service.h"

namespace rrto::server {

StatusService::StatusService(const std::string& host, ServerIdentity identity, SessionManager& sessions)
    : host_(host), sessions_(sessions), source_(std::move(identity), sessions.metrics(), board_) {}

Status StatusService::start(const config::ServerAddress& where, ServerIdentity identity, SessionManager& sessions,
                            std::unique_ptr<StatusService>& out, std::string& error) {
  std::unique_ptr<StatusService> service(new StatusService(where.host, std::move(identity), sessions));
  if (Status s = StatusHttpServer::start(where.host, where.port, service->source_, service->http_, error); !ok(s))
    return s;
  sessions.status().show_on(service->board_);
  out = std::move(service);
  return Status::Ok;
}

StatusService::~StatusService() {
  sessions_.status().hide();
  if (http_) http_->stop();
}

uint16_t StatusService::port() const { return http_->port(); }

std::string StatusService::address() const { return config::format_host_port({host_, http_->port()}); }

}  // namespace rrto::server

// A session with rrto-server spoken directly through the transport and the
// protocol, without the client library: what rpc_lat times is one batch
// holding one cheap call (MemGetInfo) and its reply.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "protocol/batch.h"
#include "transport/transport.h"

namespace rrto::perf {

class RpcSession {
 public:
  // Connects and says Hello (the token from RRTO_AUTH_TOKEN, if set).
  static Status open(const std::string& host, uint16_t port, const transport::LinkProfile& link,
                     std::unique_ptr<RpcSession>& out, std::string& error);

  // One request/response with a null call. Wire bytes of the last one in
  // request_bytes()/reply_bytes().
  Status null_call();
  uint64_t request_bytes() const { return request_bytes_; }
  uint64_t reply_bytes() const { return reply_bytes_; }

  std::string transport_name() const { return conn_->transport_name(); }

 private:
  template <typename Call, typename Result>
  Status call(Call& c, Result& result, std::string& error);

  std::unique_ptr<transport::ClientConnection> conn_;
  proto::BatchWriter batch_;
  transport::Reply reply_;
  uint64_t request_bytes_ = 0, reply_bytes_ = 0;
};

}  // namespace rrto::perf

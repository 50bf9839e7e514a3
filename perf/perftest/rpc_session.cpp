#include "perf/perftest/rpc_session.h"

#include <unistd.h>

#include <cstdlib>

#include <fmt/format.h>

namespace rrto::perf {

template <typename Call, typename Result>
Status RpcSession::call(Call& c, Result& result, std::string& error) {
  batch_.clear();
  batch_.add(c);
  const auto meta = batch_.bytes();
  Status s = conn_->call(proto::kBatchRequest, meta, {}, reply_);
  if (!ok(s)) {
    error = fmt::format("the call failed: {}", status_name(s));
    return s;
  }
  request_bytes_ = sizeof(transport::WireHeader) + meta.size();
  reply_bytes_ = sizeof(transport::WireHeader) + reply_.meta.size();
  proto::ReplyHeader header;
  std::span<const uint8_t> body;
  if (reply_.opcode != proto::kBatchReply || !proto::decode_reply(reply_.meta, header, body)) {
    error = "malformed reply";
    return Status::ProtocolError;
  }
  if (header.status != 0) {
    proto::ErrorResult why;
    proto::decode_fields(body, why);
    error = fmt::format("the server answered CUDA error {}: {}", header.status, why.message);
    return Status::InvalidArgument;
  }
  if (!proto::decode_fields(body, result)) {
    error = "malformed result";
    return Status::ProtocolError;
  }
  return Status::Ok;
}

Status RpcSession::open(const std::string& host, uint16_t port, const transport::LinkProfile& link,
                        std::unique_ptr<RpcSession>& out, std::string& error) {
  auto session = std::unique_ptr<RpcSession>(new RpcSession());
  transport::ConnectOptions options{.host = host, .port = port, .link = link};
  if (Status s = transport::ClientConnection::connect(options, session->conn_); !ok(s)) {
    error = fmt::format("cannot reach rrto-server at {}:{}", host, port);
    return s;
  }
  const char* token = std::getenv("RRTO_AUTH_TOKEN");
  const std::string name = fmt::format("rrto-perftest[{}]", getpid());
  proto::Hello hello{.auth_token = token ? token : "", .client_name = name};
  proto::HelloResult result;
  if (Status s = session->call(hello, result, error); !ok(s)) {
    error = "rrto-server refused the session: " + error;
    return s;
  }
  out = std::move(session);
  return Status::Ok;
}

Status RpcSession::null_call() {
  proto::MemGetInfo c;
  proto::MemGetInfoResult result;
  std::string ignored;
  return call(c, result, ignored);
}

}  // namespace rrto::perf

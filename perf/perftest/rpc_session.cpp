#include "perf/perftest/rpc_session.h"

#include <unistd.h>

#include <cstdlib>

#include <fmt/format.h>

#include "protocol/handshake.h"

namespace rrto::perf {

Status RpcSession::exchange(std::span<const uint8_t> batch, std::span<const transport::Segment> bulk,
                            std::span<uint8_t> reply_bulk, std::string& error) {
  reply_.bulk_dest = reply_bulk.data();
  reply_.bulk_capacity = reply_bulk.size();
  reply_.bulk_received = 0;
  Status s = conn_->call(proto::kBatchRequest, batch, bulk, reply_);
  if (!ok(s)) {
    error = fmt::format("the call failed: {}", status_name(s));
    return s;
  }
  uint64_t bulk_up = 0;
  for (const transport::Segment& piece : bulk) bulk_up += piece.length;
  request_bytes_ = sizeof(transport::WireHeader) + batch.size() + bulk_up;
  reply_bytes_ = sizeof(transport::WireHeader) + reply_.meta.size() + reply_.bulk_received;
  ++round_trips_;
  bytes_up_ += batch.size() + bulk_up;
  bytes_down_ += reply_.meta.size() + reply_.bulk_received;
  proto::ReplyHeader header;
  if (reply_.opcode != proto::kBatchReply || !proto::decode_reply(reply_.meta, header, result_body_)) {
    error = "malformed reply";
    return Status::ProtocolError;
  }
  if (header.status != 0) {
    proto::ErrorResult why;
    proto::decode_fields(result_body_, why);
    error = fmt::format("the server answered CUDA error {}: {}", header.status, why.message);
    return Status::InvalidArgument;
  }
  if (reply_.bulk_received != reply_bulk.size()) {
    error = fmt::format("the reply brought {} bytes back, not {}", reply_.bulk_received, reply_bulk.size());
    return Status::ProtocolError;
  }
  return Status::Ok;
}

Status RpcSession::open(const std::string& host, uint16_t port, const transport::LinkProfile& link,
                        std::unique_ptr<RpcSession>& out, std::string& error, const std::string& program) {
  auto session = std::unique_ptr<RpcSession>(new RpcSession());
  transport::ConnectOptions options{.host = host, .port = port, .link = link};
  if (Status s = transport::ClientConnection::connect(options, session->conn_); !ok(s)) {
    error = fmt::format("cannot reach rrto-server at {}:{}", host, port);
    return s;
  }
  if (Status s = session->handshake(program, error); !ok(s)) {
    error = "rrto-server refused the session: " + error;
    return s;
  }
  out = std::move(session);
  return Status::Ok;
}

Status RpcSession::handshake(const std::string& program, std::string& error) {
  const char* key = std::getenv("RRTO_AUTH_KEY");
  proto::ClientHandshake handshake(key ? key : "");
  const std::string name = fmt::format("{}[{}]", program, getpid());
  proto::Hello hello;
  if (Status s = handshake.hello(name, hello); !ok(s)) {
    error = "no random bytes for the handshake's nonce";
    return s;
  }
  proto::HelloChallenge challenge;
  if (Status s = call(hello, challenge, error); !ok(s)) return s;
  proto::Authenticate authenticate;
  if (Status s = handshake.answer(challenge, authenticate, error); !ok(s)) return s;
  proto::HelloResult result;
  return call(authenticate, result, error);
}

Status RpcSession::null_call() {
  proto::MemGetInfo c;
  proto::MemGetInfoResult result;
  std::string ignored;
  return call(c, result, ignored);
}

}  // namespace rrto::perf

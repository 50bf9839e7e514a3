#include "perf/soak/peer.h"

#include <unistd.h>

#include <chrono>
#include <thread>

#include <fmt/format.h>

#include "protocol/handshake.h"

namespace rrto::soak {

const char* outcome_name(Outcome o) {
  switch (o) {
    case Outcome::ErrorReply: return "error_reply";
    case Outcome::ErrorReplyThenClosed: return "error_reply_then_closed";
    case Outcome::Closed: return "closed";
    case Outcome::Served: return "served";
    case Outcome::NotTried: return "not_tried";
    case Outcome::ServerGone: return "server_gone";
  }
  return "?";
}

Status Peer::open(const Target& target, std::unique_ptr<Peer>& out) {
  auto peer = std::make_unique<Peer>();
  if (Status s = transport::ClientConnection::connect({.host = target.host, .port = target.port}, peer->connection_);
      !ok(s))
    return s;
  out = std::move(peer);
  return Status::Ok;
}

bool Peer::reachable(const Target& target) {
  std::unique_ptr<Peer> probe;
  return ok(open(target, probe));
}

Status Peer::open_session(const Target& target, std::unique_ptr<Peer>& out) {
  if (Status s = open(target, out); !ok(s)) return s;
  const Answer a = out->hello(target.key);
  if (!ok(a.transport)) return a.transport;
  return a.status == 0 ? Status::Ok : Status::InvalidArgument;
}

// With a key other than the server's, the server's proof does not check out;
// the client sends a proof anyway, which the server must refuse.
Answer Peer::hello(const std::string& key) {
  proto::ClientHandshake handshake(key);
  proto::Hello hello;
  const std::string name = fmt::format("rrto-soak-intruder[{}]", getpid());  // Hello points at it
  if (!ok(handshake.hello(name, hello))) {
    Answer unsent;
    unsent.transport = Status::InternalError;
    return unsent;
  }
  const Answer challenged = call(hello);
  proto::HelloChallenge challenge;
  if (!decoded(challenged, challenge)) return challenged;
  proto::Authenticate authenticate;
  std::string why;
  static const proto::Proof kNotTheKeys = [] {
    proto::Proof p;
    p.fill(0x5a);
    return p;
  }();
  if (!ok(handshake.answer(challenge, authenticate, why))) authenticate.client_proof = kNotTheKeys;
  return call(authenticate);
}

Answer Peer::send(std::span<const uint8_t> meta, std::span<const transport::Segment> bulk, uint16_t opcode) {
  Answer a;
  transport::Reply reply;
  reply.bulk_dest = reply_bulk_.data();
  reply.bulk_capacity = reply_bulk_.size();
  a.transport = connection_->call(opcode, meta, bulk, reply);
  if (!ok(a.transport)) return a;
  proto::ReplyHeader header;
  std::span<const uint8_t> result;
  if (reply.opcode != proto::kBatchReply || !proto::decode_reply(reply.meta, header, result)) {
    a.transport = Status::ProtocolError;
    return a;
  }
  a.status = header.status;
  a.result.assign(result.begin(), result.end());
  a.bulk_received = reply.bulk_received;
  return a;
}

Outcome Peer::judge(const Answer& answer, bool watch_close) {
  if (answer.transport == Status::InternalError) return Outcome::NotTried;
  if (!ok(answer.transport)) return Outcome::Closed;
  if (answer.status == 0) return Outcome::Served;
  if (watch_close && closed_within_a_second()) return Outcome::ErrorReplyThenClosed;
  return Outcome::ErrorReply;
}

// The server closes a connection after the error reply, so the client's
// transport learns of it a moment later.
bool Peer::closed_within_a_second() {
  using namespace std::chrono_literals;
  for (int i = 0; i < 50; ++i) {
    if (!ok(call(proto::MemGetInfo{}).transport)) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

}  // namespace rrto::soak

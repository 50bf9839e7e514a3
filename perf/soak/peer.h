// One connection of the misbehaving client to rrto-server, spoken through the
// transport directly: what it sends and what came back, judged as a refusal
// or not.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "protocol/batch.h"
#include "transport/transport.h"

namespace rrto::soak {

// What became of one attempt. Refused: an error reply, the connection closed,
// or both. Served: the server ran what it should have refused. NotTried: the
// attempt could not be set up (e.g. no connection, no session): the soak
// counts it as a failure, since a refusal could not be shown. ServerGone: the
// connection closed because the server is no longer there (it crashed).
enum class Outcome { ErrorReply, ErrorReplyThenClosed, Closed, Served, NotTried, ServerGone };
inline constexpr Outcome kOutcomes[] = {Outcome::ErrorReply, Outcome::ErrorReplyThenClosed, Outcome::Closed,
                                        Outcome::Served,     Outcome::NotTried,             Outcome::ServerGone};
const char* outcome_name(Outcome o);
inline bool refused(Outcome o) {
  return o == Outcome::ErrorReply || o == Outcome::ErrorReplyThenClosed || o == Outcome::Closed;
}

// The reply to one message; `transport` not Ok means none came (the
// connection is gone), InternalError that nothing could be sent.
struct Answer {
  Status transport = Status::Ok;
  uint32_t status = 0;  // CUresult of the batch
  std::vector<uint8_t> result;
  size_t bulk_received = 0;
};

struct Target {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::string key;  // the server's auth key; empty: it has none
};

class Peer {
 public:
  // Connects without saying anything.
  static Status open(const Target& target, std::unique_ptr<Peer>& out);
  // Whether a new connection to the server can be made.
  static bool reachable(const Target& target);
  // Connects and is admitted as a session, as a well-behaved client would be.
  static Status open_session(const Target& target, std::unique_ptr<Peer>& out);

  // The session handshake (protocol/handshake.h) with `key`, the target's or
  // a wrong one: the answer to its last message.
  Answer hello(const std::string& key);

  Answer send(std::span<const uint8_t> meta, std::span<const transport::Segment> bulk = {},
              uint16_t opcode = proto::kBatchRequest);
  template <typename Call>
  Answer call(Call c, std::span<const transport::Segment> bulk = {}) {
    proto::BatchWriter batch;
    batch.add(c);
    return send(batch.bytes(), bulk);
  }
  // The result of a call that succeeded, decoded; false otherwise.
  template <typename Result>
  static bool decoded(const Answer& a, Result& out) {
    return ok(a.transport) && a.status == 0 && proto::decode_fields(a.result, out);
  }

  // How the server treated the attempt that got `answer`. With `watch_close`,
  // after an error reply it checks for a second whether the server also
  // closes the connection.
  Outcome judge(const Answer& answer, bool watch_close);

 private:
  bool closed_within_a_second();

  std::unique_ptr<transport::ClientConnection> connection_;
  std::vector<uint8_t> reply_bulk_ = std::vector<uint8_t>(64 << 10);
};

}  // namespace rrto::soak

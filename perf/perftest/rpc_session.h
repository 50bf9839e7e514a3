// A session with rrto-server spoken directly through the transport and the
// protocol, without the client library: what rpc_lat times (one batch holding
// one cheap call, MemGetInfo, and its reply), and what the `ideal` mode of
// rrto-perf-workload sends (perf/workloads/ideal_driver.cpp).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "common/status.h"
#include "protocol/batch.h"
#include "transport/transport.h"

namespace rrto::perf {

// The result of a call that answers nothing but its status.
struct NoResult {
  template <class F> void fields(F&&) {}
};

class RpcSession {
 public:
  // Connects and does the handshake (with the key from RRTO_AUTH_KEY, if
  // set) as `program`[pid].
  static Status open(const std::string& host, uint16_t port, const transport::LinkProfile& link,
                     std::unique_ptr<RpcSession>& out, std::string& error,
                     const std::string& program = "rrto-perftest");

  // One request/response with a null call. Wire bytes of the last one in
  // request_bytes()/reply_bytes().
  Status null_call();
  uint64_t request_bytes() const { return request_bytes_; }
  uint64_t reply_bytes() const { return reply_bytes_; }

  // One batch and its reply: `bulk` goes up with it, the reply's bulk lands
  // in `reply_bulk` (which it must fill exactly). A call's error comes back
  // as a status with the server's words in `error`; the result body of the
  // last call in result_body(), valid until the next exchange.
  Status exchange(std::span<const uint8_t> batch, std::span<const transport::Segment> bulk,
                  std::span<uint8_t> reply_bulk, std::string& error);
  std::span<const uint8_t> result_body() const { return result_body_; }

  // One call alone, its result decoded into `result` (pass a call's own
  // result struct, or an empty one such as proto::MemGetInfo for none).
  template <typename Call, typename Result>
  Status call(const Call& c, Result& result, std::string& error, std::span<const transport::Segment> bulk = {}) {
    batch_.clear();
    batch_.add(c);
    if (Status s = exchange(batch_.bytes(), bulk, {}, error); !ok(s)) return s;
    if (!proto::decode_fields(result_body_, result)) {
      error = "malformed result";
      return Status::ProtocolError;
    }
    return Status::Ok;
  }

  // Totals since open(), as the client library's RRTO_STATS counts them
  // (metadata and bulk, without the transport's headers).
  uint64_t round_trips() const { return round_trips_; }
  uint64_t bytes_up() const { return bytes_up_; }
  uint64_t bytes_down() const { return bytes_down_; }

  std::string transport_name() const { return conn_->transport_name(); }

 private:
  Status handshake(const std::string& program, std::string& error);

  std::unique_ptr<transport::ClientConnection> conn_;
  proto::BatchWriter batch_;
  transport::Reply reply_;
  std::span<const uint8_t> result_body_;
  uint64_t request_bytes_ = 0, reply_bytes_ = 0;
  uint64_t round_trips_ = 0, bytes_up_ = 0, bytes_down_ = 0;
};

}  // namespace rrto::perf

// A fake connection to rrto-server for client unit tests, and helpers that
// read back what the client sent.
#pragma once

#include <doctest/doctest.h>

#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "protocol/batch.h"
#include "transport/transport.h"

namespace rrto::client {

struct SentBatch {
  std::vector<uint8_t> meta;
  std::vector<uint8_t> bulk;
};

// Stands in for the server: records every batch and answers it with success
// (a reply bulk, for a device-to-host copy, is filled with 0xab), or, once
// `lost` is set, fails as a vanished peer does. A ReplaySegment that asks
// for a continuation gets `continuation` when that is set.
struct FakeContinuation {
  std::vector<uint8_t> outputs;
  uint64_t save_ns = 0;  // what the server says saving took
};
class FakeConnection final : public transport::ClientConnection {
 public:
  explicit FakeConnection(std::vector<SentBatch>& sent, const bool* lost = nullptr,
                          const FakeContinuation* continuation = nullptr)
      : sent_(sent), lost_(lost), continuation_(continuation) {}
  Status call(uint16_t, std::span<const uint8_t> meta, std::span<const transport::Segment> bulk,
              transport::Reply& reply) override {
    if (lost_ && *lost_) return Status::ConnectionLost;
    SentBatch& b = sent_.emplace_back();
    b.meta.assign(meta.begin(), meta.end());
    for (const auto& s : bulk) b.bulk.insert(b.bulk.end(), static_cast<const uint8_t*>(s.data),
                                             static_cast<const uint8_t*>(s.data) + s.length);
    proto::BatchReader reader(meta);
    reply.opcode = proto::kBatchReply;
    reply.meta.clear();
    ByteWriter w(reply.meta);
    proto::encode_reply_header(w, {.status = 0, .call_index = reader.count() - 1});
    if (asks_continuation(meta)) {
      proto::ReplaySegmentResult result{
          .verdict = proto::kSpeculated, .outputs = continuation_->outputs, .save_ns = continuation_->save_ns};
      proto::encode_fields(w, result);
    }
    if (reply.bulk_dest) std::memset(reply.bulk_dest, 0xab, reply.bulk_capacity);
    reply.bulk_received = reply.bulk_dest ? reply.bulk_capacity : 0;
    return Status::Ok;
  }
  std::string transport_name() const override { return "fake"; }
  void set_silence_limit(int) override {}

 private:
  bool asks_continuation(std::span<const uint8_t> meta) const {
    if (!continuation_) return false;
    proto::BatchReader reader(meta);
    proto::CallView view{}, last{};
    while (reader.next(view)) last = view;
    proto::ReplaySegment replay;
    return last.op == proto::CallOp::ReplaySegment && proto::decode_fields(last.body, replay) &&
           replay.speculate_to > 0;
  }

  std::vector<SentBatch>& sent_;
  const bool* lost_;
  const FakeContinuation* continuation_;
};

inline std::vector<proto::CallView> calls_of(std::span<const uint8_t> meta) {
  std::vector<proto::CallView> out;
  proto::BatchReader reader(meta);
  proto::CallView view{};
  while (reader.next(view)) out.push_back(view);
  REQUIRE_FALSE(reader.failed());
  return out;
}

template <typename Call>
Call decode(const proto::CallView& view) {
  REQUIRE(view.op == proto::kCallOp<Call>);
  Call call;
  REQUIRE(proto::decode_fields(view.body, call));
  return call;
}

}  // namespace rrto::client

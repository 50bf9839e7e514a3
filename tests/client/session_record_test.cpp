// The record a client keeps to re-create its session elsewhere: the calls that
// built state, with their bulk bytes and allocations' addresses; nothing else.
#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "client/session_record.h"
#include "common/codec.h"

using namespace rrto;
using namespace rrto::client;

namespace {

std::vector<proto::AnyCall> calls_of(const SessionRecord::Chunk& chunk) {
  std::vector<proto::AnyCall> out;
  proto::BatchReader reader(chunk.calls.bytes());
  proto::CallView view;
  while (reader.next(view)) {
    proto::AnyCall call;
    REQUIRE(proto::decode_call(view, call));
    out.push_back(call);
  }
  REQUIRE_FALSE(reader.failed());
  return out;
}

std::vector<uint8_t> alloc_result(uint64_t dptr) {
  std::vector<uint8_t> body;
  ByteWriter w(body);
  proto::MemAllocResult result{.dptr = dptr};
  proto::encode_fields(w, result);
  return body;
}

}  // namespace

TEST_CASE("a session's record keeps what built state, with its bytes and addresses, and skips the rest") {
  SessionRecord record(1 << 20);
  // Weights in two bulk pieces: the copy spans both.
  const std::vector<uint8_t> head = {1, 2, 3}, tail = {4, 5, 6, 7};
  const transport::Segment bulk[] = {{head.data(), head.size()}, {tail.data(), tail.size()}};
  proto::BatchWriter first;
  first.add(proto::StreamCreate{.stream = 9});
  first.add(proto::MemcpyHtoD{.dst = 0x1000, .size = 5, .bulk_offset = 2, .stream = 9});
  first.add(proto::MemGetInfo{});
  first.add(proto::MemAlloc{.size = 64});
  record.keep(first.bytes(), bulk, first.count(), alloc_result(0x2000));

  proto::BatchWriter inference;  // replays and reads change nothing kept
  inference.add(proto::ReplaySegment{.tmpl = 1, .first = 0, .last = 3});
  inference.add(proto::MemcpyDtoH{.src = 0x2000, .size = 4});
  record.keep(inference.bytes(), {}, inference.count(), {});

  REQUIRE(record.why_unusable().empty());
  REQUIRE(record.chunks().size() == 1);
  const SessionRecord::Chunk& chunk = record.chunks()[0];
  const auto kept = calls_of(chunk);
  REQUIRE(kept.size() == 3);
  CHECK(std::get<proto::StreamCreate>(kept[0]).stream == 9);
  const auto& copy = std::get<proto::MemcpyHtoD>(kept[1]);
  CHECK(copy.dst == 0x1000);
  REQUIRE(copy.size == 5);
  CHECK(std::vector<uint8_t>(chunk.bulk.begin() + copy.bulk_offset, chunk.bulk.begin() + copy.bulk_offset + 5) ==
        std::vector<uint8_t>{3, 4, 5, 6, 7});
  const auto& alloc = std::get<proto::MemAlloc>(kept[2]);
  CHECK(alloc.size == 64);
  CHECK(alloc.at == 0x2000);
  CHECK(record.calls() == 3);
}

TEST_CASE("a failed batch leaves only the calls that ran before the failure") {
  SessionRecord record(1 << 20);
  proto::BatchWriter batch;
  batch.add(proto::EventCreate{.event = 1});
  batch.add(proto::EventCreate{.event = 2});
  batch.add(proto::MemAlloc{.size = 1ull << 40});  // failed: no result
  record.keep(batch.bytes(), {}, 2, {});
  REQUIRE(record.chunks().size() == 1);
  CHECK(calls_of(record.chunks()[0]).size() == 2);
}

TEST_CASE("a record past its limit is dropped for good, and says why") {
  SessionRecord record(1024);
  const std::vector<uint8_t> weights(600, 7);
  const transport::Segment bulk[] = {{weights.data(), weights.size()}};
  proto::BatchWriter batch;
  batch.add(proto::MemcpyHtoD{.dst = 0x1000, .size = 600});
  record.keep(batch.bytes(), bulk, 1, {});
  CHECK(record.why_unusable().empty());
  record.keep(batch.bytes(), bulk, 1, {});
  CHECK(record.why_unusable().find("failover.max_log_mb") != std::string::npos);
  CHECK(record.chunks().empty());
  record.keep(batch.bytes(), bulk, 1, {});
  CHECK(record.chunks().empty());
}

// Remote: what goes out when, in each mode, and what a lost server does.
#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "client/remote.h"
#include "fake_connection.h"

namespace rrto::client {
namespace {

struct Fixture {
  explicit Fixture(Mode mode) {
    remote.attach(std::make_unique<FakeConnection>(sent, &lost), "fake");
    remote.set_mode(mode);
  }
  std::vector<SentBatch> sent;
  bool lost = false;
  Remote remote;
};

TEST_CASE("rpc mode sends each call at once") {
  Fixture f(Mode::Rpc);
  proto::MemFree free_a{.dptr = 0x1000}, free_b{.dptr = 0x2000};
  REQUIRE(f.remote.defer(free_a) == CUDA_SUCCESS);
  REQUIRE(f.remote.defer(free_b) == CUDA_SUCCESS);
  REQUIRE(f.sent.size() == 2);
  CHECK(calls_of(f.sent[1].meta).size() == 1);
  CHECK(decode<proto::MemFree>(calls_of(f.sent[1].meta)[0]).dptr == 0x2000);
}

TEST_CASE("queued calls go with the next call that needs an answer, bulk in order") {
  Fixture f(Mode::Async);
  const uint8_t first[4] = {1, 2, 3, 4}, second[2] = {5, 6};
  proto::MemcpyHtoD a{.dst = 0x1000, .size = 4, .bulk_offset = f.remote.add_bulk_copy(first, 4), .stream = 0};
  REQUIRE(f.remote.defer(a) == CUDA_SUCCESS);
  proto::MemcpyHtoD b{.dst = 0x2000, .size = 2, .bulk_offset = f.remote.add_bulk_ref(second, 2), .stream = 0};
  REQUIRE(f.remote.defer(b) == CUDA_SUCCESS);
  CHECK(f.sent.empty());
  CHECK(f.remote.has_pending_work());
  CHECK(f.remote.mark().operators == 2);

  uint8_t out[8] = {};
  proto::MemcpyDtoH down{.src = 0x3000, .size = sizeof out, .stream = 0};
  REQUIRE(f.remote.call_for_bulk(down, out, sizeof out) == CUDA_SUCCESS);
  REQUIRE(f.sent.size() == 1);
  CHECK(calls_of(f.sent[0].meta).size() == 3);
  CHECK(decode<proto::MemcpyHtoD>(calls_of(f.sent[0].meta)[1]).bulk_offset == 4);
  CHECK(f.sent[0].bulk == std::vector<uint8_t>{1, 2, 3, 4, 5, 6});
  CHECK(f.remote.last_bulk_received() == sizeof out);
  CHECK(out[0] == 0xab);
  CHECK_FALSE(f.remote.has_pending());
  CHECK(f.remote.mark().bulk_bytes == 0);
}

TEST_CASE("a queue that reaches the batch bound goes out: no batch holds more calls than the server takes") {
  Fixture f(Mode::Async);
  proto::EventRecord record{.event = 0x20, .stream = 0};
  for (uint32_t i = 0; i < limits::kBatchCalls + 10; ++i) REQUIRE(f.remote.defer(record) == CUDA_SUCCESS);
  REQUIRE(f.sent.size() == 1);
  CHECK(calls_of(f.sent[0].meta).size() == limits::kBatchCalls - 1);
  proto::CtxSynchronize sync;
  REQUIRE(f.remote.call(sync) == CUDA_SUCCESS);
  REQUIRE(f.sent.size() == 2);
  CHECK(calls_of(f.sent[1].meta).size() == 12);
}

TEST_CASE("replace_since swaps the calls after a mark and keeps their bulk") {
  Fixture f(Mode::Replay);
  proto::StreamCreate create{.stream = 0x14, .flags = 0, .priority = 0};
  REQUIRE(f.remote.defer(create) == CUDA_SUCCESS);
  const QueueMark mark = f.remote.mark();
  const uint8_t input[3] = {7, 8, 9};
  proto::MemcpyHtoD up{.dst = 0x1000, .size = 3, .bulk_offset = f.remote.add_bulk_copy(input, 3), .stream = 0};
  REQUIRE(f.remote.defer(up) == CUDA_SUCCESS);
  f.remote.replace_since(mark, {.tmpl = 4, .first = 0, .last = 0, .input_offset = mark.bulk_bytes, .deltas = {}});
  REQUIRE(f.remote.flush() == CUDA_SUCCESS);
  const auto calls = calls_of(f.sent.at(0).meta);
  REQUIRE(calls.size() == 2);
  CHECK(calls[0].op == proto::CallOp::StreamCreate);
  CHECK(decode<proto::ReplaySegment>(calls[1]).tmpl == 4);
  CHECK(f.sent[0].bulk == std::vector<uint8_t>{7, 8, 9});
}

TEST_CASE("a lost server fails that call and every later one, without sending") {
  Fixture f(Mode::Async);
  proto::MemGetInfo info;
  proto::MemGetInfoResult result;
  f.lost = true;
  CHECK(f.remote.call(info, &result) == CUDA_ERROR_DEVICE_UNAVAILABLE);
  f.lost = false;  // even if it answered again, the session is gone
  CHECK(f.remote.call(info, &result) == CUDA_ERROR_DEVICE_UNAVAILABLE);
  CHECK(f.sent.empty());
  CHECK_FALSE(f.remote.has_pending());
}

}  // namespace
}  // namespace rrto::client

#include <doctest/doctest.h>

#include <random>

#include "protocol/batch.h"

using namespace rrto;
using namespace rrto::proto;

namespace {

std::vector<uint8_t> two_call_batch() {
  BatchWriter w;
  MemAlloc alloc{.size = 4096};
  w.add(alloc);
  const uint8_t params[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  Launch launch{.function = 0x41, .grid = {2, 1, 1}, .block = {64, 1, 1}, .shared_mem = 0, .stream = 7,
                .params = Bytes(params)};
  w.add(launch);
  return {w.bytes().begin(), w.bytes().end()};
}

}  // namespace

TEST_CASE("a batch round-trips its calls and their fields") {
  auto meta = two_call_batch();
  BatchReader r(meta);
  REQUIRE(r.count() == 2);
  CallView call{};
  REQUIRE(r.next(call));
  CHECK(call.op == CallOp::MemAlloc);
  MemAlloc alloc;
  REQUIRE(decode_fields(call.body, alloc));
  CHECK(alloc.size == 4096);
  REQUIRE(r.next(call));
  CHECK(call.op == CallOp::Launch);
  Launch launch;
  REQUIRE(decode_fields(call.body, launch));
  CHECK(launch.function == 0x41);
  CHECK(launch.grid[0] == 2);
  CHECK(launch.block[0] == 64);
  CHECK(launch.stream == 7);
  REQUIRE(launch.params.size() == 12);
  CHECK(launch.params[11] == 12);
  CHECK_FALSE(r.next(call));
  CHECK_FALSE(r.failed());
}

TEST_CASE("a truncated batch is rejected at every cut point") {
  auto meta = two_call_batch();
  for (size_t cut = 0; cut < meta.size(); ++cut) {
    std::vector<uint8_t> part(meta.begin(), meta.begin() + cut);
    BatchReader r(part);
    CallView call{};
    bool all_decoded = true;
    uint32_t calls = 0;
    while (r.next(call)) {
      ++calls;
      if (call.op == CallOp::MemAlloc) {
        MemAlloc a;
        all_decoded &= decode_fields(call.body, a);
      } else if (call.op == CallOp::Launch) {
        Launch l;
        all_decoded &= decode_fields(call.body, l);
      }
    }
    CHECK_MESSAGE((r.failed() || !all_decoded || calls < 2), "cut at ", cut, " was accepted");
  }
}

TEST_CASE("a call body with bytes left over does not decode") {
  std::vector<uint8_t> body;
  ByteWriter w(body);
  w.put<uint64_t>(1);
  w.put<uint8_t>(0);
  MemAlloc a;
  CHECK_FALSE(decode_fields(body, a));
}

TEST_CASE("an unknown call opcode and trailing garbage are malformed") {
  std::vector<uint8_t> meta;
  ByteWriter w(meta);
  w.put<uint32_t>(1);
  w.put<uint16_t>(0x7777);
  w.put<uint32_t>(0);
  BatchReader r(meta);
  CallView call{};
  CHECK_FALSE(r.next(call));
  CHECK(r.failed());

  auto good = two_call_batch();
  good.push_back(0xff);
  BatchReader r2(good);
  while (r2.next(call)) {
  }
  CHECK(r2.failed());
}

TEST_CASE("random garbage never decodes into a full batch of valid calls") {
  std::mt19937 rng(1234);
  for (int i = 0; i < 2000; ++i) {
    std::vector<uint8_t> junk(rng() % 64);
    for (auto& b : junk) b = static_cast<uint8_t>(rng());
    BatchReader r(junk);
    CallView call{};
    while (r.next(call)) {
      Launch l;
      decode_fields(call.body, l);  // must not read out of bounds (ASan/valgrind)
    }
  }
}

TEST_CASE("reply header and result body") {
  std::vector<uint8_t> meta;
  ByteWriter w(meta);
  encode_reply_header(w, {.status = 700, .call_index = 3});
  MemAllocResult res{.dptr = 0x1234};
  encode_fields(w, res);
  ReplyHeader h;
  std::span<const uint8_t> body;
  REQUIRE(decode_reply(meta, h, body));
  CHECK(h.status == 700);
  CHECK(h.call_index == 3);
  MemAllocResult got;
  REQUIRE(decode_fields(body, got));
  CHECK(got.dptr == 0x1234);
  uint8_t tiny[3] = {};
  CHECK_FALSE(decode_reply(tiny, h, body));
}

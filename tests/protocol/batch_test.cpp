#include <doctest/doctest.h>

#include <cstring>
#include <random>
#include <string>

#include "protocol/any_call.h"
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

// Every call of the batch is known and decodes, with no byte left over.
bool decodes_fully(std::span<const uint8_t> meta) {
  BatchReader r(meta);
  CallView view{};
  uint32_t calls = 0;
  while (r.next(view)) {
    AnyCall call;
    if (!decode_call(view, call)) return false;
    ++calls;
  }
  return !r.failed() && calls == r.count();
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
  // The check itself says yes to a real batch and no to a cut one.
  REQUIRE(decodes_fully(two_call_batch()));
  auto cut = two_call_batch();
  cut.pop_back();
  REQUIRE_FALSE(decodes_fully(cut));

  std::mt19937 rng(1234);
  for (int i = 0; i < 4000; ++i) {
    std::vector<uint8_t> junk(rng() % 64);
    for (auto& b : junk) b = static_cast<uint8_t>(rng());
    // Half with a small call count, so that the calls' bodies get decoded too.
    if (i % 2 == 1 && junk.size() >= 4) {
      const uint32_t count = 1 + rng() % 3;
      std::memcpy(junk.data(), &count, sizeof count);
    }
    CHECK_FALSE_MESSAGE(decodes_fully(junk), "junk ", i, " decoded as a batch");
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

TEST_CASE("the calls keep their numbers on the wire, their names and which are operators") {
  // Numbers a client and server of another build must agree on.
  CHECK(static_cast<uint16_t>(CallOp::Hello) == 1);
  CHECK(static_cast<uint16_t>(CallOp::MemcpyHtoD) == 5);
  CHECK(static_cast<uint16_t>(CallOp::Launch) == 14);
  CHECK(static_cast<uint16_t>(CallOp::CtxSynchronize) == 26);
  CHECK(static_cast<uint16_t>(CallOp::ReplaySegment) == 29);
  CHECK_FALSE(is_call_op(0));
  CHECK_FALSE(is_call_op(0xffff));
  // Calls 1 to 29 are those of protocol version 1; later ones may follow.
  std::string operators;
  for (uint16_t n = 1; n <= 29; ++n) {
    REQUIRE(is_call_op(n));
    const auto op = static_cast<CallOp>(n);
    if (is_operator(op)) operators += std::string(operators.empty() ? "" : " ") + call_op_name(op);
  }
  CHECK(operators ==
        "MemcpyHtoD MemcpyDtoH MemcpyDtoD Memset Launch StreamSynchronize StreamWaitEvent EventRecord CtxSynchronize");
  CHECK(std::string(call_op_name(CallOp::ModuleGetFunction)) == "ModuleGetFunction");
  CHECK(kIsOperator<Launch>);
  CHECK_FALSE(kIsOperator<MemAlloc>);
  CHECK(kCallOp<TemplateRegister> == CallOp::TemplateRegister);
}

TEST_CASE("a decoded call is the struct its number names") {
  const auto meta = two_call_batch();
  BatchReader r(meta);
  CallView view{};
  AnyCall call;
  REQUIRE(r.next(view));
  REQUIRE(decode_call(view, call));
  REQUIRE(std::holds_alternative<MemAlloc>(call));
  CHECK(std::get<MemAlloc>(call).size == 4096);
  REQUIRE(r.next(view));
  REQUIRE(decode_call(view, call));
  CHECK(call_op(call) == CallOp::Launch);
  CHECK(std::get<Launch>(call).block[0] == 64);
}

TEST_CASE("a launch with attributes and a function's setting survive the wire") {
  BatchWriter w;
  const uint8_t params[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  w.add(FuncSetAttribute{.function = 3, .attribute = 8, .value = 65536});
  w.add(LaunchEx{.function = 3,
                 .grid = {4, 1, 1},
                 .block = {128, 1, 1},
                 .shared_mem = 65536,
                 .stream = 9,
                 .params = Bytes(params),
                 .attributes = {.present = 1u << 4 | 1u << 8, .cluster = {2, 1, 1}, .priority = -2}});
  BatchReader r(w.bytes());
  CallView view{};
  AnyCall call;
  REQUIRE(r.next(view));
  REQUIRE(decode_call(view, call));
  REQUIRE(std::holds_alternative<FuncSetAttribute>(call));
  CHECK(std::get<FuncSetAttribute>(call).value == 65536);
  CHECK_FALSE(is_operator(call_op(call)));
  CHECK(builds_state(call_op(call)));
  REQUIRE(r.next(view));
  REQUIRE(decode_call(view, call));
  REQUIRE(std::holds_alternative<LaunchEx>(call));
  const LaunchEx& launch = std::get<LaunchEx>(call);
  CHECK(launch.attributes == LaunchAttributes{.present = 1u << 4 | 1u << 8, .cluster = {2, 1, 1}, .priority = -2});
  CHECK(launch.params.size() == 8);
  CHECK(launch.shared_mem == 65536);
  CHECK(kIsOperator<LaunchEx>);
  CHECK(launches_kernel(CallOp::LaunchEx));
}

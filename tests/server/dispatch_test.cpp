// The session manager and dispatcher, driven in process with the host backend.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <numeric>

#include "common/limits.h"
#include "common/log.h"
#include "protocol/launch_attributes.h"
#include "tests/server/harness.h"
#include "tests/server/test_util.h"

using namespace rrto;
using namespace rrto::server;
using namespace rrto::server::test;

namespace {

size_t count_of(std::string_view text, std::string_view what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string_view::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

}  // namespace

TEST_CASE("Hello describes the one device the session is placed on") {
  Harness h;
  const auto peer = h.connect();
  const Outcome o = h.hello(peer);
  REQUIRE(o.status == CUDA_SUCCESS);
  const auto result = o.result<proto::HelloResult>();
  CHECK(result.session_id != 0);
  CHECK(result.device_name == "test device 0");
  CHECK(result.total_memory == 64ull << 20);
  CHECK(result.device_uuid.size() == 16);
  REQUIRE(result.attributes.size() == CU_DEVICE_ATTRIBUTE_MAX * sizeof(int32_t));
  int32_t major = 0, warp = 0, threads = 0;
  std::memcpy(&major, result.attributes.data() + 4 * CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, 4);
  std::memcpy(&warp, result.attributes.data() + 4 * CU_DEVICE_ATTRIBUTE_WARP_SIZE, 4);
  std::memcpy(&threads, result.attributes.data() + 4 * CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK, 4);
  CHECK(major == 9);
  CHECK(warp == 32);
  CHECK(threads == 1024);
  CHECK(h.manager().session_count() == 1);
}

TEST_CASE("sessions are placed on devices round-robin") {
  Harness h(HarnessOptions{.device_memory_mb = {16, 16}});
  std::vector<std::string> names;
  for (int i = 0; i < 4; ++i) {
    const Outcome o = h.hello(h.connect());
    REQUIRE(o.status == CUDA_SUCCESS);
    names.emplace_back(o.result<proto::HelloResult>().device_name);
  }
  CHECK(names == std::vector<std::string>{"test device 0", "test device 1", "test device 0", "test device 1"});
}

TEST_CASE("names a client sends reach the log escaped: no forged lines, no terminal escapes") {
  Harness h;
  const auto peer = h.open_session();
  Request r;
  const uint8_t image[] = {0x7f, 'E', 'L', 'F'};
  r.add(proto::ModuleLoad{.module = 1, .bulk_offset = r.add_bulk(image, 4), .size = 4});
  const uint8_t odd_layout[3] = {};
  r.add(proto::ModuleGetFunction{.module = 1,
                                 .function = 2,
                                 .name = "k\n[00:00:00.000 rrto 1 server info] session 9 ended\x1b[2J",
                                 .param_layout = proto::Bytes(odd_layout)});
  Outcome o;
  const std::string log = logged([&] { o = h.send(peer, r); });
  CHECK(o.status == CUDA_ERROR_INVALID_VALUE);
  CHECK(log.find("k\\x0a[00:00:00.000 rrto 1 server info] session 9 ended\\x1b[2J") != std::string::npos);
  CHECK(log.find('\x1b') == std::string::npos);
  CHECK(log.find("\n[00:00:00.000") == std::string::npos);
}

TEST_CASE("alloc, copy up, copy down: the bytes come back") {
  Harness h;
  const auto peer = h.open_session();
  const uint64_t p = h.alloc(peer, 4096);
  CHECK(p % 256 == 0);
  const auto data = pattern(4096, 3);

  const Outcome up = h.write(peer, p, data.data(), data.size());
  CHECK(up.status == CUDA_SUCCESS);
  CHECK(up.landed_at(p));  // one HtoD: the payload lands in device memory directly

  const Outcome down = h.read(peer, p, data.size());
  REQUIRE(down.status == CUDA_SUCCESS);
  CHECK(down.bulk == data);

  // The same in one batch of several calls, through the transport's buffer.
  Request r;
  const auto second = pattern(1000, 9);
  r.add(proto::MemcpyHtoD{.dst = p + 100, .size = 500, .bulk_offset = r.add_bulk(second.data(), 500)});
  r.add(proto::MemcpyHtoD{.dst = p + 600, .size = 500, .bulk_offset = r.add_bulk(second.data() + 500, 500)});
  r.add(proto::Memset{.dst = p, .value = 0xab, .element_size = 1, .count = 100});
  r.add(proto::MemcpyDtoH{.src = p, .size = 1100});
  const Outcome batch = h.send(peer, r);
  REQUIRE(batch.status == CUDA_SUCCESS);
  CHECK(batch.call_index == 3);
  CHECK_FALSE(batch.landed_at(p + 100));
  REQUIRE(batch.bulk.size() == 1100);
  CHECK(std::all_of(batch.bulk.begin(), batch.bulk.begin() + 100, [](uint8_t b) { return b == 0xab; }));
  CHECK(std::equal(second.begin(), second.end(), batch.bulk.begin() + 100));
}

TEST_CASE("device-to-device copies and 16/32-bit memsets") {
  Harness h;
  const auto peer = h.open_session();
  const uint64_t a = h.alloc(peer, 64), b = h.alloc(peer, 64);
  Request r;
  r.add(proto::Memset{.dst = a, .value = 0xbeef, .element_size = 2, .count = 8});
  r.add(proto::Memset{.dst = a + 16, .value = 0x01020304, .element_size = 4, .count = 4});
  r.add(proto::MemcpyDtoD{.dst = b, .src = a, .size = 32});
  r.add(proto::MemcpyDtoH{.src = b, .size = 32});
  const Outcome o = h.send(peer, r);
  REQUIRE(o.status == CUDA_SUCCESS);
  uint16_t half[8];
  uint32_t word[4];
  std::memcpy(half, o.bulk.data(), 16);
  std::memcpy(word, o.bulk.data() + 16, 16);
  for (uint16_t v : half) CHECK(v == 0xbeef);
  for (uint32_t v : word) CHECK(v == 0x01020304);

  Request bad;
  bad.add(proto::Memset{.dst = a, .value = 0, .element_size = 3, .count = 1});
  CHECK(h.send(peer, bad).status == CUDA_ERROR_INVALID_VALUE);
}

TEST_CASE("copies past the end of an allocation are refused, and the session goes on") {
  Harness h;
  const auto peer = h.open_session();
  const uint64_t p = h.alloc(peer, 256);
  const auto data = pattern(8, 1);

  Outcome o = h.write(peer, p + 252, data.data(), 8);
  CHECK(o.status == CUDA_ERROR_INVALID_VALUE);
  CHECK_FALSE(o.landed_at(p + 252));  // never lands outside the allocation
  CHECK_FALSE(o.closed);
  CHECK(o.error().find("not inside one allocation") != std::string::npos);

  CHECK(h.read(peer, p + 200, 57).status == CUDA_ERROR_INVALID_VALUE);
  CHECK(h.read(peer, p - 1, 2).status == CUDA_ERROR_INVALID_VALUE);
  CHECK(h.read(peer, p + 8, UINT64_MAX - 4).status == CUDA_ERROR_INVALID_VALUE);
  Request dtod;
  dtod.add(proto::MemcpyDtoD{.dst = p, .src = p + 128, .size = 129});
  CHECK(h.send(peer, dtod).status == CUDA_ERROR_INVALID_VALUE);
  Request memset;
  memset.add(proto::Memset{.dst = p, .value = 0, .element_size = 4, .count = 65});
  CHECK(h.send(peer, memset).status == CUDA_ERROR_INVALID_VALUE);

  // Still in business.
  CHECK(h.write(peer, p + 248, data.data(), 8).status == CUDA_SUCCESS);
  CHECK(h.read(peer, p + 248, 8).bulk == data);
}

TEST_CASE("a session cannot read, write or free another session's memory") {
  Harness h;
  const auto alice = h.open_session();
  const auto mallory = h.open_session();
  const uint64_t secret = h.alloc(alice, 1024);
  const auto data = pattern(1024, 42);
  REQUIRE(h.write(alice, secret, data.data(), data.size()).status == CUDA_SUCCESS);

  const auto junk = pattern(16, 0);
  const Outcome write = h.write(mallory, secret, junk.data(), junk.size());
  CHECK(write.status == CUDA_ERROR_INVALID_VALUE);
  CHECK_FALSE(write.landed_at(secret));
  const Outcome read = h.read(mallory, secret, 16);
  CHECK(read.status == CUDA_ERROR_INVALID_VALUE);
  CHECK(read.bulk.empty());
  Request free;
  free.add(proto::MemFree{.dptr = secret});
  CHECK(h.send(mallory, free).status == CUDA_ERROR_INVALID_VALUE);
  const uint64_t own = h.alloc(mallory, 1024);
  Request steal;
  steal.add(proto::MemcpyDtoD{.dst = own, .src = secret, .size = 16});
  CHECK(h.send(mallory, steal).status == CUDA_ERROR_INVALID_VALUE);

  CHECK(h.read(alice, secret, 1024).bulk == data);
}

TEST_CASE("a batch stops at the first failing call and says which") {
  Harness h;
  const auto peer = h.open_session();
  Request r;
  r.add(proto::MemAlloc{.size = 128});
  r.add(proto::MemFree{.dptr = 0x1234});
  r.add(proto::MemAlloc{.size = 128});
  const Outcome o = h.send(peer, r);
  CHECK(o.status == CUDA_ERROR_INVALID_VALUE);
  CHECK(o.call_index == 1);
  CHECK_FALSE(o.error().empty());
  CHECK_FALSE(o.closed);
  // Only the first allocation happened.
  CHECK(h.device().used_bytes() == 256);
}

TEST_CASE("malformed requests get an error reply and close that session only") {
  Harness h;
  const auto bystander = h.open_session();
  const uint64_t p = h.alloc(bystander, 64);

  const auto expect_closed = [&](const Outcome& o) {
    CHECK(o.replied);
    CHECK(o.status == CUDA_ERROR_INVALID_VALUE);
    CHECK(o.closed);
    CHECK(o.error().find("malformed") != std::string::npos);
  };

  SUBCASE("garbage metadata") {
    const auto peer = h.open_session();
    const uint8_t junk[] = {3, 0, 0, 0, 0xff, 0xff, 1, 2};
    expect_closed(h.send_raw(peer, proto::kBatchRequest, junk, {}));
  }
  SUBCASE("an empty batch") {
    const auto peer = h.open_session();
    Request r;
    expect_closed(h.send(peer, r));
  }
  SUBCASE("a message that is not a batch request") {
    const auto peer = h.open_session();
    Request r;
    r.add(proto::MemGetInfo{});
    r.opcode = 77;
    expect_closed(h.send(peer, r));
  }
  SUBCASE("a call body that does not decode") {
    const auto peer = h.open_session();
    std::vector<uint8_t> meta;
    ByteWriter w(meta);
    w.put<uint32_t>(1);
    w.put<uint16_t>(static_cast<uint16_t>(proto::CallOp::MemAlloc));
    w.put<uint32_t>(3);  // MemAlloc has 16 bytes
    w.put_bytes("abc", 3);
    expect_closed(h.send_raw(peer, proto::kBatchRequest, meta, {}));
  }
  SUBCASE("a bulk range outside the received bulk") {
    const auto peer = h.open_session();
    const uint64_t q = h.alloc(peer, 64);
    Request r;
    const uint8_t bytes[8] = {};
    r.add_bulk(bytes, 8);
    r.add(proto::MemcpyHtoD{.dst = q, .size = 16, .bulk_offset = 0});
    expect_closed(h.send(peer, r));
    Request wrap;  // offset + size wraps around
    const auto other = h.open_session();
    const uint64_t q2 = h.alloc(other, 64);
    wrap.add_bulk(bytes, 8);
    wrap.add(proto::MemcpyHtoD{.dst = q2, .size = 16, .bulk_offset = UINT64_MAX - 7});
    expect_closed(h.send(other, wrap));
  }
  SUBCASE("a module image outside the received bulk") {
    const auto peer = h.open_session();
    Request r;
    r.add(proto::ModuleLoad{.module = 1, .bulk_offset = 0, .size = 100});
    expect_closed(h.send(peer, r));
  }
  SUBCASE("MemcpyDtoH that is not the last call") {
    const auto peer = h.open_session();
    const uint64_t q = h.alloc(peer, 64);
    Request r;
    r.add(proto::MemcpyDtoH{.src = q, .size = 8});
    r.add(proto::MemGetInfo{});
    expect_closed(h.send(peer, r));
  }
  SUBCASE("a message over max_message_mb") {
    Harness small(HarnessOptions{.policy = {.max_message_bytes = 1024}});
    const auto peer = small.open_session();
    const uint64_t q = small.alloc(peer, 4096);
    const auto data = pattern(2048, 0);
    const Outcome o = small.write(peer, q, data.data(), data.size());
    CHECK(o.status == CUDA_ERROR_INVALID_VALUE);
    CHECK(o.closed);
  }

  // Whatever the others did, the bystander is unaffected.
  const auto data = pattern(64, 5);
  CHECK(h.write(bystander, p, data.data(), data.size()).status == CUDA_SUCCESS);
  CHECK(h.read(bystander, p, 64).bulk == data);
}

TEST_CASE("before Hello only a small message is taken, refused on its size alone") {
  Harness h;
  const auto peer = h.connect();
  const std::vector<uint8_t> big(limits::kHelloMessageBytes + 1, 0);
  const Outcome o = h.send_raw(peer, proto::kBatchRequest, big, {});
  CHECK(o.status == CUDA_ERROR_INVALID_VALUE);
  CHECK(o.closed);
  const std::string why(o.body.begin(), o.body.end());
  CHECK(why.find("before Hello") != std::string::npos);
  // A bulk counts too.
  const auto other = h.connect();
  Request r;
  r.add(proto::Hello{});
  r.add_bulk(big.data(), big.size());
  CHECK(h.send(other, r).closed);
}

TEST_CASE("a connection without an accepted Hello is closed once its time is up; sessions stay") {
  HarnessOptions options;
  options.policy.hello_timeout = std::chrono::milliseconds(50);
  Harness h(options);
  const auto admitted = h.open_session();
  const auto silent = h.connect();
  CHECK(h.tick().empty());  // not yet
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  CHECK(h.tick() == std::vector<transport::PeerId>{silent});
  CHECK(h.manager().connection_count() == 1);
  CHECK(h.mem_info(admitted).total > 0);
}

TEST_CASE("a batch of more calls than a batch may hold is malformed") {
  Harness h;
  const auto peer = h.open_session();
  Request r;
  for (uint32_t i = 0; i <= limits::kBatchCalls; ++i) r.add(proto::MemGetInfo{});
  const Outcome o = h.send(peer, r);
  CHECK(o.status == CUDA_ERROR_INVALID_VALUE);
  CHECK(o.closed);
}

TEST_CASE("a closed session's later messages are ignored") {
  Harness h;
  const auto peer = h.open_session();
  const uint8_t junk[] = {1, 2, 3};
  const size_t replies = h.sink().replies.size();
  h.manager().on_message(peer, transport::Message{.opcode = proto::kBatchRequest, .meta = junk, .bulk = {}});
  CHECK(h.sink().closed.size() == 1);
  // The transport has not reported the disconnect yet; more arrives.
  Request r;
  r.add(proto::MemGetInfo{});
  h.manager().on_message(peer, transport::Message{.opcode = proto::kBatchRequest, .meta = r.calls.bytes(), .bulk = {}});
  CHECK(h.sink().replies.size() == replies + 1);  // only the error reply
  h.disconnect(peer);
  CHECK(h.manager().connection_count() == 0);
}

TEST_CASE("a message dropped after bulk_destination does not stand in for the next one") {
  Harness h;
  const auto peer = h.open_session();
  const uint64_t p = h.alloc(peer, 64);
  const auto data = pattern(8, 1);
  REQUIRE(h.write(peer, p + 8, data.data(), data.size()).status == CUDA_SUCCESS);
  // The transport asks where a copy's 8 bytes land, then drops the message...
  proto::BatchWriter copy_up;
  copy_up.add(proto::MemcpyHtoD{.dst = p, .size = 8});
  std::vector<uint8_t> meta(copy_up.bytes().begin(), copy_up.bytes().end());
  REQUIRE(h.manager().bulk_destination(peer, proto::kBatchRequest, meta, 8) != nullptr);
  // ...and the next message, in the same buffer and as long, is another call.
  proto::BatchWriter copy_across;
  copy_across.add(proto::MemcpyDtoD{.dst = p + 16, .src = p + 8, .size = 8});
  REQUIRE(copy_across.bytes().size() == meta.size());
  std::copy(copy_across.bytes().begin(), copy_across.bytes().end(), meta.begin());
  // Without a bulk, the transport asks bulk_destination nothing for it.
  h.manager().on_message(peer, transport::Message{.opcode = proto::kBatchRequest, .meta = meta, .bulk = {}});
  h.settle();
  CHECK(h.read(peer, p + 16, 8).bulk == data);
}

TEST_CASE("a request sent before the reply to the one before it closes that connection only") {
  Harness h;
  const auto peer = h.open_session();
  const auto other = h.open_session();
  const uint64_t p = h.alloc(peer, 64);
  proto::BatchWriter memset;
  memset.add(proto::Memset{.dst = p, .value = 1, .element_size = 1, .count = 64});
  const std::vector<uint8_t> meta(memset.bytes().begin(), memset.bytes().end());
  // Device work goes to the executor: its reply waits for the test to settle.
  h.manager().on_message(peer, transport::Message{.opcode = proto::kBatchRequest, .meta = meta, .bulk = {}});
  REQUIRE(h.manager().batches_in_flight() == 1);
  h.manager().on_message(peer, transport::Message{.opcode = proto::kBatchRequest, .meta = meta, .bulk = {}});
  REQUIRE(h.sink().closed.size() == 1);
  CHECK(h.sink().closed.back() == peer);
  h.disconnect(peer);
  CHECK(h.manager().batches_in_flight() == 0);
  CHECK(h.manager().session_count() == 1);
  CHECK(h.mem_info(other).free == h.mem_info(other).total);
}

TEST_CASE("the first call must be Hello, and there is only one handshake") {
  Harness h;
  const auto peer = h.connect();
  Request r;
  r.add(proto::MemAlloc{.size = 64});
  const Outcome o = h.send(peer, r);
  CHECK(o.status == CUDA_ERROR_NOT_INITIALIZED);
  CHECK(o.closed);
  CHECK(h.device().used_bytes() == 0);

  const auto again = h.open_session();
  const Outcome second = h.hello(again);
  CHECK(second.status == CUDA_ERROR_INVALID_VALUE);
  CHECK(second.closed);
}

TEST_CASE("the handshake's calls come first, in order") {
  Harness h;
  proto::ClientHandshake client{""};
  proto::Hello hello;
  REQUIRE(ok(client.hello("harness", hello)));
  SUBCASE("Authenticate before Hello") {
    const Outcome o = h.send_call(h.connect(), proto::Authenticate{});
    CHECK(o.status == CUDA_ERROR_NOT_INITIALIZED);
    CHECK(o.closed);
  }
  SUBCASE("another call between Hello and Authenticate") {
    const auto peer = h.connect();
    Request r;
    r.add(hello).add(proto::MemAlloc{.size = 512});
    const Outcome o = h.send(peer, r);
    CHECK(o.status == CUDA_ERROR_NOT_INITIALIZED);
    CHECK(o.call_index == 1);
    CHECK(o.closed);
  }
  SUBCASE("Authenticate and more calls in one batch") {
    const auto peer = h.connect();
    REQUIRE(h.send_call(peer, hello).status == CUDA_SUCCESS);
    Request r;
    r.add(proto::Authenticate{}).add(proto::MemAlloc{.size = 512});
    const Outcome o = h.send(peer, r);
    REQUIRE(o.status == CUDA_SUCCESS);
    CHECK(o.call_index == 1);
    CHECK(o.result<proto::MemAllocResult>().dptr != 0);
  }
  SUBCASE("a second Authenticate") {
    const auto peer = h.open_session();
    const Outcome o = h.send_call(peer, proto::Authenticate{});
    CHECK(o.status == CUDA_ERROR_INVALID_VALUE);
    CHECK(o.closed);
  }
  CHECK(h.manager().session_count() <= 1);
}

constexpr const char* kKey = "harness-key-0123456789abcdef";

TEST_CASE("the key and the protocol version are checked in the handshake") {
  Harness h(HarnessOptions{.policy = {.auth_key = kKey}});
  SUBCASE("wrong key: the client refuses the server's proof") {
    const Outcome o = h.hello(h.connect(), "another-key-0123456789abcdef");
    CHECK(o.client_refusal.find("could not prove") != std::string::npos);
    CHECK(h.manager().session_count() == 0);
  }
  SUBCASE("a proof made without the key") {
    const auto peer = h.connect();
    proto::ClientHandshake client{""};
    proto::Hello hello;
    REQUIRE(ok(client.hello("guesser", hello)));
    const Outcome challenged = h.send_call(peer, hello);
    REQUIRE(challenged.status == CUDA_SUCCESS);
    CHECK(challenged.result<proto::HelloChallenge>().server_proof.size() == proto::kProofBytes);
    const std::vector<uint8_t> guess(proto::kProofBytes, 0x5a);
    const Outcome o = h.send_call(peer, proto::Authenticate{.client_proof = guess});
    CHECK(o.status == CUDA_ERROR_NOT_PERMITTED);
    CHECK(o.closed);
    CHECK(o.error().find("key") != std::string::npos);
  }
  SUBCASE("no key") {
    const Outcome o = h.hello(h.connect(), "");
    CHECK(o.status == CUDA_ERROR_NOT_PERMITTED);
    CHECK(o.closed);
  }
  SUBCASE("right key, wrong protocol version: refused at Hello") {
    const Outcome o = h.hello(h.connect(), kKey, proto::kProtocolVersion + 1);
    CHECK(o.status == CUDA_ERROR_SYSTEM_DRIVER_MISMATCH);
    CHECK(o.closed);
    CHECK(o.error().find("protocol version") != std::string::npos);
  }
  SUBCASE("right key") {
    const Outcome o = h.hello(h.connect(), kKey);
    CHECK(o.status == CUDA_SUCCESS);
    CHECK_FALSE(o.closed);
    CHECK(o.result<proto::HelloResult>().device_name == "test device 0");
  }
  CHECK(h.manager().session_count() <= 1);
}

TEST_CASE("a recorded handshake replayed by a third party is refused") {
  Harness h(HarnessOptions{.policy = {.auth_key = kKey}});
  // What a listener on the network saw of an honest client's handshake.
  proto::ClientHandshake client{kKey};
  proto::Hello hello;
  REQUIRE(ok(client.hello("honest", hello)));
  Request recorded_hello;
  recorded_hello.add(hello);
  const auto honest = h.connect();
  const Outcome challenged = h.send(honest, recorded_hello);
  REQUIRE(challenged.status == CUDA_SUCCESS);
  const auto first_challenge = challenged.result<proto::HelloChallenge>();
  const std::vector<uint8_t> first_nonce(first_challenge.server_nonce.begin(), first_challenge.server_nonce.end());
  proto::Authenticate authenticate;
  std::string why;
  REQUIRE(ok(client.answer(first_challenge, authenticate, why)));
  Request recorded_authenticate;
  recorded_authenticate.add(authenticate);
  REQUIRE(h.send(honest, recorded_authenticate).status == CUDA_SUCCESS);

  // The same bytes again, on a connection of the listener's own.
  const auto replayer = h.connect();
  const Outcome replayed_hello = h.send(replayer, recorded_hello);
  REQUIRE(replayed_hello.status == CUDA_SUCCESS);
  const auto second_challenge = replayed_hello.result<proto::HelloChallenge>();
  CHECK(std::vector<uint8_t>(second_challenge.server_nonce.begin(), second_challenge.server_nonce.end()) !=
        first_nonce);
  const Outcome o = h.send(replayer, recorded_authenticate);
  CHECK(o.status == CUDA_ERROR_NOT_PERMITTED);
  CHECK(o.closed);
  CHECK(h.manager().session_count() == 1);
}

TEST_CASE("a server without a key is refused by a client that has one") {
  Harness h;
  const Outcome o = h.hello(h.connect(), kKey);
  CHECK(o.client_refusal.find("no key") != std::string::npos);
  CHECK(h.manager().session_count() == 0);
}

TEST_CASE("max_sessions refuses one more, and frees a place when one ends") {
  Harness h(HarnessOptions{.policy = {.max_sessions = 2}});
  const auto a = h.open_session();
  h.open_session();
  const Outcome third = h.hello(h.connect());
  CHECK(third.status == CUDA_ERROR_DEVICE_UNAVAILABLE);
  CHECK(third.closed);
  h.disconnect(a);
  CHECK(h.hello(h.connect()).status == CUDA_SUCCESS);
}

TEST_CASE("ending a session frees everything it held") {
  Harness h;
  const auto observer = h.open_session();
  const auto before = h.mem_info(observer);
  CHECK(before.free == before.total);

  const auto peer = h.open_session();
  for (int i = 0; i < 3; ++i) h.alloc(peer, 1 << 20);
  h.alloc(peer, 1000);
  Request r;
  const uint8_t image[] = {'/', '/', ' ', 'P', 'T', 'X'};
  r.add(proto::ModuleLoad{.module = 5, .bulk_offset = r.add_bulk(image, sizeof image), .size = sizeof image});
  const auto layout = layout_bytes({{0, 8}, {8, 4}, {12, 4}});
  r.add(proto::ModuleGetFunction{.module = 5, .function = 6, .name = kScaleKernel, .param_layout = layout});
  r.add(proto::StreamCreate{.stream = 7});
  r.add(proto::EventCreate{.event = 8});
  REQUIRE(h.send(peer, r).status == CUDA_SUCCESS);
  CHECK(h.mem_info(observer).free < before.total);

  SUBCASE("clean close") { h.disconnect(peer); }
  SUBCASE("dropped by a protocol error") {
    const uint8_t junk[] = {9};
    CHECK(h.send_raw(peer, proto::kBatchRequest, junk, {}).closed);
  }
  SUBCASE("server shutdown") { h.manager().end_all("server shutdown"); }

  if (h.manager().connection_count() > 0) CHECK(h.mem_info(observer).free == before.total);
  CHECK(h.device().used_bytes() == 0);
}

TEST_CASE("memory limits: the device's and the session's") {
  SUBCASE("device") {
    Harness h(HarnessOptions{.device_memory_mb = {4}});
    const auto peer = h.open_session();
    h.alloc(peer, 3 << 20);
    Request r;
    r.add(proto::MemAlloc{.size = 2 << 20});
    CHECK(h.send(peer, r).status == CUDA_ERROR_OUT_OF_MEMORY);
    Request zero;
    zero.add(proto::MemAlloc{.size = 0});
    CHECK(h.send(peer, zero).status == CUDA_ERROR_INVALID_VALUE);
  }
  SUBCASE("session") {
    Harness h(HarnessOptions{.device_memory_mb = {64}, .policy = {.session = {.memory_bytes = 1 << 20}}});
    const auto peer = h.open_session();
    h.alloc(peer, 768 << 10);
    Request r;
    r.add(proto::MemAlloc{.size = 512 << 10});
    CHECK(h.send(peer, r).status == CUDA_ERROR_OUT_OF_MEMORY);
    const auto info = h.mem_info(peer);
    CHECK(info.total == 1 << 20);
    CHECK(info.free == 256 << 10);
    // Another session has its own budget.
    h.alloc(h.open_session(), 768 << 10);
  }
}

TEST_CASE("kernels run on the CPU with the client's parameters") {
  Harness h;
  const auto peer = h.open_session();
  const int n = 100;
  const uint64_t data = h.alloc(peer, n * sizeof(float));
  std::vector<float> values(n);
  std::iota(values.begin(), values.end(), 0.0f);
  REQUIRE(h.write(peer, data, values.data(), n * sizeof(float)).status == CUDA_SUCCESS);

  Request load;
  const uint8_t image[] = {0x7f, 'E', 'L', 'F'};  // the host backend keeps, never parses, the image
  load.add(proto::ModuleLoad{.module = 1, .bulk_offset = load.add_bulk(image, 4), .size = 4});
  const auto layout = layout_bytes({{0, 8}, {8, 4}, {12, 4}});
  load.add(proto::ModuleGetFunction{.module = 1, .function = 2, .name = kScaleKernel, .param_layout = layout});
  REQUIRE(h.send(peer, load).status == CUDA_SUCCESS);

  uint8_t params[16];
  const float factor = 2.5f;
  std::memcpy(params, &data, 8);
  std::memcpy(params + 8, &factor, 4);
  std::memcpy(params + 12, &n, 4);
  Request launch;
  launch.add(proto::Launch{.function = 2, .grid = {4, 1, 1}, .block = {32, 1, 1}, .params = proto::Bytes(params)});
  launch.add(proto::MemcpyDtoH{.src = data, .size = n * sizeof(float)});
  const Outcome o = h.send(peer, launch);
  REQUIRE(o.status == CUDA_SUCCESS);
  std::vector<float> out(n);
  std::memcpy(out.data(), o.bulk.data(), o.bulk.size());
  for (int i = 0; i < n; ++i) CHECK(out[i] == doctest::Approx(i * 2.5f));

  SUBCASE("a parameter buffer shorter than the layout is refused") {
    Request r;
    r.add(proto::Launch{.function = 2, .params = proto::Bytes(params, 12)});
    const Outcome bad = h.send(peer, r);
    CHECK(bad.status == CUDA_ERROR_INVALID_VALUE);
    CHECK_FALSE(bad.closed);
  }
  SUBCASE("an unknown function") {
    Request r;
    r.add(proto::Launch{.function = 99, .params = proto::Bytes(params)});
    CHECK(h.send(peer, r).status == CUDA_ERROR_INVALID_HANDLE);
  }
  SUBCASE("function attributes") {
    Request r;
    r.add(proto::FuncGetAttribute{.function = 2, .attribute = CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK});
    const Outcome a = h.send(peer, r);
    REQUIRE(a.status == CUDA_SUCCESS);
    CHECK(a.result<proto::FuncGetAttributeResult>().value == 1024);
  }
  SUBCASE("unloading the module drops its functions") {
    Request r;
    r.add(proto::ModuleUnload{.module = 1});
    REQUIRE(h.send(peer, r).status == CUDA_SUCCESS);
    Request again;
    again.add(proto::Launch{.function = 2, .params = proto::Bytes(params)});
    CHECK(h.send(peer, again).status == CUDA_ERROR_INVALID_HANDLE);
  }
}

TEST_CASE("a parameter layout that differs from the plug-in's is refused") {
  Harness h;
  const auto peer = h.open_session();
  Request r;
  const uint8_t image[] = {1, 2, 3, 4};
  r.add(proto::ModuleLoad{.module = 1, .bulk_offset = r.add_bulk(image, 4), .size = 4});
  const auto eight_byte_args = layout_bytes({{0, 8}, {8, 8}, {16, 8}});  // "never assume 8-byte args"
  r.add(proto::ModuleGetFunction{.module = 1, .function = 2, .name = kMixedKernel, .param_layout = eight_byte_args});
  const Outcome o = h.send(peer, r);
  CHECK(o.status == CUDA_ERROR_INVALID_VALUE);
  CHECK(o.call_index == 1);
  CHECK(o.error().find("(0,1) (8,8) (16,4)") != std::string::npos);

  Request right;
  const auto layout = layout_bytes({{0, 1}, {8, 8}, {16, 4}});
  right.add(proto::ModuleGetFunction{.module = 1, .function = 2, .name = kMixedKernel, .param_layout = layout});
  CHECK(h.send(peer, right).status == CUDA_SUCCESS);

  Request odd;
  const uint8_t three[3] = {};
  odd.add(
      proto::ModuleGetFunction{.module = 1, .function = 3, .name = kMixedKernel, .param_layout = proto::Bytes(three)});
  CHECK(h.send(peer, odd).status == CUDA_ERROR_INVALID_VALUE);
}

TEST_CASE("launching a kernel without a CPU version fails with its name") {
  Harness h;
  const auto peer = h.open_session();
  Request r;
  const uint8_t image[] = {1, 2, 3, 4};
  r.add(proto::ModuleLoad{.module = 1, .bulk_offset = r.add_bulk(image, 4), .size = 4});
  const auto layout = layout_bytes({{0, 8}});
  r.add(proto::ModuleGetFunction{.module = 1, .function = 2, .name = kUnregisteredKernel, .param_layout = layout});
  r.add(proto::ModuleGetFunction{.module = 1, .function = 3, .name = "_Z7missingv", .param_layout = {}});
  REQUIRE(h.send(peer, r).status == CUDA_SUCCESS);  // looking it up is fine

  const uint64_t p = h.alloc(peer, 64);
  Request launch;
  launch.add(proto::Launch{.function = 2, .params = proto::Bytes(reinterpret_cast<const uint8_t*>(&p), 8)});
  const Outcome o = h.send(peer, launch);
  CHECK(o.status == CUDA_ERROR_NOT_FOUND);
  CHECK(o.error().find(kUnregisteredKernel) != std::string::npos);
  CHECK_FALSE(o.closed);

  Request missing;
  missing.add(proto::Launch{.function = 3});
  Outcome m;
  const std::string log = logged([&] { m = h.send(peer, missing); });
  CHECK(m.status == CUDA_ERROR_NOT_FOUND);
  CHECK(m.error().find("_Z7missingv") != std::string::npos);
  // Logged once, at warn, naming the kernel and why.
  CHECK_MESSAGE(count_of(log, "_Z7missingv") == 1, log);
  CHECK(log.find("warn] session ") != std::string::npos);
  CHECK(log.find("has no host version") != std::string::npos);
}

TEST_CASE("module globals are session memory while their module lives") {
  Harness h;
  const auto peer = h.open_session();
  Request r;
  const uint8_t image[] = {1, 2, 3, 4};
  r.add(proto::ModuleLoad{.module = 1, .bulk_offset = r.add_bulk(image, 4), .size = 4});
  r.add(proto::ModuleGetGlobal{.module = 1, .name = "server_test_table"});
  const Outcome o = h.send(peer, r);
  REQUIRE(o.status == CUDA_SUCCESS);
  const auto global = o.result<proto::ModuleGetGlobalResult>();
  CHECK(global.size == 16);
  const Outcome read = h.read(peer, global.dptr, 16);
  REQUIRE(read.status == CUDA_SUCCESS);
  int32_t table[4];
  std::memcpy(table, read.bulk.data(), 16);
  CHECK(table[3] == 4);
  CHECK(h.read(peer, global.dptr, 17).status == CUDA_ERROR_INVALID_VALUE);

  Request unknown;
  unknown.add(proto::ModuleGetGlobal{.module = 1, .name = "no_such_global"});
  CHECK(h.send(peer, unknown).status == CUDA_ERROR_NOT_FOUND);

  Request unload;
  unload.add(proto::ModuleUnload{.module = 1});
  REQUIRE(h.send(peer, unload).status == CUDA_SUCCESS);
  CHECK(h.read(peer, global.dptr, 16).status == CUDA_ERROR_INVALID_VALUE);
}

TEST_CASE("streams and events: client ids, per-thread streams, timing") {
  Harness h;
  const auto peer = h.open_session();
  const uint64_t per_thread = proto::kPerThreadStreamBit | 3;
  Request r;
  r.add(proto::StreamCreate{.stream = 10});
  r.add(proto::EventCreate{.event = 20});
  r.add(proto::EventCreate{.event = 21});
  r.add(proto::EventRecord{.event = 20, .stream = 10});
  r.add(proto::StreamSynchronize{.stream = per_thread});  // made on first use
  r.add(proto::StreamWaitEvent{.stream = per_thread, .event = 20});
  r.add(proto::EventRecord{.event = 21, .stream = 0});
  r.add(proto::EventQuery{.event = 21});
  r.add(proto::StreamQuery{.stream = 10});
  r.add(proto::CtxSynchronize{});
  r.add(proto::EventElapsedTime{.start = 20, .end = 21});
  const Outcome o = h.send(peer, r);
  REQUIRE(o.status == CUDA_SUCCESS);
  CHECK(o.result<proto::EventElapsedTimeResult>().milliseconds >= 0.0f);

  const auto expect = [&](auto call, CUresult status) {
    Request q;
    q.add(call);
    const Outcome out = h.send(peer, q);
    CHECK(out.status == status);
    CHECK_FALSE(out.closed);
  };
  expect(proto::StreamSynchronize{.stream = 11}, CUDA_ERROR_INVALID_HANDLE);
  expect(proto::StreamCreate{.stream = 10}, CUDA_ERROR_INVALID_VALUE);  // in use
  expect(proto::StreamCreate{.stream = proto::kPerThreadStreamBit | 9}, CUDA_ERROR_INVALID_VALUE);
  expect(proto::StreamDestroy{.stream = per_thread}, CUDA_ERROR_INVALID_HANDLE);
  expect(proto::EventSynchronize{.event = 99}, CUDA_ERROR_INVALID_HANDLE);
  expect(proto::EventCreate{.event = 0}, CUDA_ERROR_INVALID_VALUE);
  expect(proto::EventCreate{.event = 30, .flags = CU_EVENT_DISABLE_TIMING}, CUDA_SUCCESS);
  expect(proto::EventRecord{.event = 30}, CUDA_SUCCESS);
  expect(proto::EventElapsedTime{.start = 20, .end = 30}, CUDA_ERROR_INVALID_HANDLE);
  expect(proto::StreamDestroy{.stream = 10}, CUDA_SUCCESS);
  expect(proto::StreamQuery{.stream = 10}, CUDA_ERROR_INVALID_HANDLE);
  expect(proto::EventDestroy{.event = 20}, CUDA_SUCCESS);
  expect(proto::EventDestroy{.event = 20}, CUDA_ERROR_INVALID_HANDLE);
}

TEST_CASE("function settings and launch attributes are applied in order and checked") {
  Harness h;
  const auto peer = h.open_session();
  const int n = 64;
  const uint64_t data = h.alloc(peer, n * sizeof(float));
  Request load;
  const uint8_t image[] = {0x7f, 'E', 'L', 'F'};
  load.add(proto::ModuleLoad{.module = 1, .bulk_offset = load.add_bulk(image, 4), .size = 4});
  const auto layout = layout_bytes({{0, 8}, {8, 4}, {12, 4}});
  load.add(proto::ModuleGetFunction{.module = 1, .function = 2, .name = kScaleKernel, .param_layout = layout});
  REQUIRE(h.send(peer, load).status == CUDA_SUCCESS);
  uint8_t params[16];
  const float factor = 2.0f;
  std::memcpy(params, &data, 8);
  std::memcpy(params + 8, &factor, 4);
  std::memcpy(params + 12, &n, 4);
  const uint32_t big_shared = 64 * 1024;  // above the default 48 KiB
  auto launch_with_shared = [&](uint32_t shared) {
    Request r;
    r.add(proto::Launch{.function = 2, .grid = {2, 1, 1}, .block = {32, 1, 1}, .shared_mem = shared,
                        .params = proto::Bytes(params)});
    return h.send(peer, r);
  };

  SUBCASE("more dynamic shared memory than the function allows fails until it is raised") {
    const Outcome refused = launch_with_shared(big_shared);
    CHECK(refused.status == CUDA_ERROR_INVALID_VALUE);
    CHECK(refused.error().find("MAX_DYNAMIC_SHARED_SIZE_BYTES") != std::string::npos);
    CHECK(launch_with_shared(48 * 1024).status == CUDA_SUCCESS);
    Request raise;
    raise.add(proto::FuncSetAttribute{.function = 2, .attribute = CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                                      .value = static_cast<int32_t>(big_shared)});
    raise.add(proto::Launch{.function = 2, .grid = {2, 1, 1}, .block = {32, 1, 1}, .shared_mem = big_shared,
                            .params = proto::Bytes(params)});
    raise.add(proto::FuncGetAttribute{.function = 2, .attribute = CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES});
    const Outcome raised = h.send(peer, raise);
    REQUIRE(raised.status == CUDA_SUCCESS);
    CHECK(raised.result<proto::FuncGetAttributeResult>().value == static_cast<int32_t>(big_shared));
    CHECK(launch_with_shared(big_shared + 1).status == CUDA_ERROR_INVALID_VALUE);
  }
  SUBCASE("settings outside what CUDA allows are refused") {
    auto set = [&](int32_t attribute, int32_t value) {
      Request r;
      r.add(proto::FuncSetAttribute{.function = 2, .attribute = attribute, .value = value});
      return h.send(peer, r).status;
    };
    CHECK(set(CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, 1 << 30) == CUDA_ERROR_INVALID_VALUE);
    CHECK(set(CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, -1) == CUDA_ERROR_INVALID_VALUE);
    CHECK(set(CU_FUNC_ATTRIBUTE_NUM_REGS, 8) == CUDA_ERROR_INVALID_VALUE);  // read-only
    CHECK(set(CU_FUNC_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT, 50) == CUDA_SUCCESS);
    Request unknown;
    unknown.add(proto::FuncSetAttribute{.function = 99, .attribute = CU_FUNC_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT});
    CHECK(h.send(peer, unknown).status == CUDA_ERROR_INVALID_HANDLE);
    Request cache;
    cache.add(proto::FuncSetCacheConfig{.function = 2, .config = CU_FUNC_CACHE_PREFER_SHARED});
    CHECK(h.send(peer, cache).status == CUDA_SUCCESS);
    Request bad_cache;
    bad_cache.add(proto::FuncSetCacheConfig{.function = 2, .config = 17});
    CHECK(h.send(peer, bad_cache).status == CUDA_ERROR_INVALID_VALUE);
  }
  SUBCASE("launch attributes") {
    auto launch_ex = [&](uint32_t grid, const proto::LaunchAttributes& attributes) {
      Request r;
      r.add(proto::LaunchEx{.function = 2, .grid = {grid, 1, 1}, .block = {32, 1, 1}, .params = proto::Bytes(params),
                            .attributes = attributes});
      r.add(proto::MemcpyDtoH{.src = data, .size = sizeof(float)});
      return h.send(peer, r);
    };
    const uint32_t cluster_bit = proto::launch_attribute_bit(CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION);
    const uint32_t cooperative_bit = proto::launch_attribute_bit(CU_LAUNCH_ATTRIBUTE_COOPERATIVE);
    const uint32_t priority_bit = proto::launch_attribute_bit(CU_LAUNCH_ATTRIBUTE_PRIORITY);
    CHECK(launch_ex(2, {.present = cluster_bit | priority_bit, .cluster = {2, 1, 1}, .priority = -1}).status ==
          CUDA_SUCCESS);
    const Outcome indivisible = launch_ex(3, {.present = cluster_bit, .cluster = {2, 1, 1}});
    CHECK(indivisible.status == CUDA_ERROR_INVALID_VALUE);
    CHECK(indivisible.error().find("does not divide") != std::string::npos);
    CHECK(launch_ex(2, {.present = cluster_bit, .cluster = {0, 1, 1}}).status == CUDA_ERROR_INVALID_VALUE);
    CHECK(launch_ex(32, {.present = cluster_bit, .cluster = {32, 1, 1}}).status == CUDA_ERROR_INVALID_CLUSTER_SIZE);
    CHECK(launch_ex(2, {.present = cooperative_bit, .cooperative = 1}).status == CUDA_SUCCESS);
    CHECK(launch_ex(1 << 20, {.present = cooperative_bit, .cooperative = 1}).status ==
          CUDA_ERROR_COOPERATIVE_LAUNCH_TOO_LARGE);
    CHECK(launch_ex(2, {.present = 1u << 12}).status == CUDA_ERROR_INVALID_VALUE);  // not one a launch carries
  }
}

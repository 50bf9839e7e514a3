// End-to-end tests: a real transport_test_server process, real UCX over
// loopback. ctest runs this file twice: with the server offering shared
// memory (TRANSPORT_TEST_SHARED_MEMORY) and with UCX_TLS=tcp.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "tests/transport/test_protocol.h"
#include "tests/transport/test_util.h"
#include "transport/transport.h"
#include "transport/ucx_worker.h"
#include "transport/wire.h"

using namespace rrto;
using namespace rrto::transport;
using namespace rrto::transport::test;
using Clock = std::chrono::steady_clock;

namespace {

std::vector<uint8_t> pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * 31 + seed + (i >> 12));
  return v;
}

std::unique_ptr<ClientConnection> connect_to(const ChildProcess& server) {
  std::unique_ptr<ClientConnection> c;
  REQUIRE(ClientConnection::connect(server.connect_options(), c) == Status::Ok);
  REQUIRE(c);
  return c;
}

// Sends `meta` + `bulk` (split into three segments) with kOpEcho or
// kOpEchoOwnBuffer and checks that exactly the same bytes come back.
void check_echo(ClientConnection& c, uint16_t opcode, const std::vector<uint8_t>& meta,
                const std::vector<uint8_t>& bulk) {
  std::vector<Segment> segments;
  const size_t third = bulk.size() / 3;
  if (third) segments.push_back({bulk.data(), third});
  if (third) segments.push_back({bulk.data() + third, third});
  if (bulk.size() - 2 * third) segments.push_back({bulk.data() + 2 * third, bulk.size() - 2 * third});

  std::vector<uint8_t> back(bulk.size() + 1, 0xee);
  Reply reply;
  reply.bulk_dest = back.data();
  reply.bulk_capacity = back.size();
  REQUIRE(c.call(opcode, meta, segments, reply) == Status::Ok);
  CHECK(reply.opcode == opcode);
  REQUIRE(reply.meta.size() == meta.size() + 1);
  CHECK(reply.meta[0] == 1);  // the bulk landed where bulk_destination said
  CHECK(std::equal(meta.begin(), meta.end(), reply.meta.begin() + 1));
  REQUIRE(reply.bulk_received == bulk.size());
  CHECK(std::equal(bulk.begin(), bulk.end(), back.begin()));
  CHECK(back[bulk.size()] == 0xee);  // nothing written past the payload
}

std::pair<uint64_t, uint64_t> server_stats(ClientConnection& c) {
  Reply reply;
  REQUIRE(c.call(kOpStats, {}, {}, reply) == Status::Ok);
  REQUIRE(reply.meta.size() == 16);
  uint64_t connects = 0, disconnects = 0;
  std::memcpy(&connects, reply.meta.data(), 8);
  std::memcpy(&disconnects, reply.meta.data() + 8, 8);
  return {connects, disconnects};
}

// Speaks UCX directly, bypassing ClientConnection, to send what a correct
// client never would.
class RawClient {
 public:
  explicit RawClient(uint16_t port) {
    REQUIRE(UcxWorker::create("raw-test-client", UcxWorker::SharedMemory::On, worker_) == Status::Ok);
    sockaddr_storage address{};
    socklen_t length = 0;
    REQUIRE(resolve("127.0.0.1", port, false, address, length) == Status::Ok);
    ucp_ep_params_t params{};
    params.field_mask = UCP_EP_PARAM_FIELD_FLAGS | UCP_EP_PARAM_FIELD_SOCK_ADDR |
                        UCP_EP_PARAM_FIELD_ERR_HANDLING_MODE | UCP_EP_PARAM_FIELD_ERR_HANDLER;
    params.flags = UCP_EP_PARAMS_FLAGS_CLIENT_SERVER;
    params.sockaddr.addr = reinterpret_cast<const sockaddr*>(&address);
    params.sockaddr.addrlen = length;
    params.err_mode = UCP_ERR_HANDLING_MODE_PEER;
    params.err_handler.cb = [](void* arg, ucp_ep_h, ucs_status_t) { *static_cast<bool*>(arg) = true; };
    params.err_handler.arg = &failed_;
    REQUIRE(ucp_ep_create(worker_->get(), &params, &ep_) == UCS_OK);
  }
  ~RawClient() {
    ucp_request_param_t param{};
    param.op_attr_mask = UCP_OP_ATTR_FIELD_FLAGS;
    param.flags = UCP_EP_CLOSE_FLAG_FORCE;
    ucs_status_ptr_t r = ucp_ep_close_nbx(ep_, &param);
    if (UCS_PTR_IS_PTR(r)) {
      while (ucp_request_check_status(r) == UCS_INPROGRESS) worker_->progress();
      ucp_request_free(r);
    }
  }

  // Sends one AM on RRTO's id, with the REPLY flag so the server knows who
  // it is from, and waits (bounded) for the send to finish.
  void send(const void* header, size_t header_length, const void* data, size_t length) {
    ucp_request_param_t param{};
    param.op_attr_mask = UCP_OP_ATTR_FIELD_FLAGS;
    param.flags = UCP_AM_SEND_FLAG_REPLY;
    ucs_status_ptr_t r = ucp_am_send_nbx(ep_, wire::kAmId, header, header_length, data, length, &param);
    if (UCS_PTR_IS_PTR(r)) {
      const auto start = Clock::now();
      while (ucp_request_check_status(r) == UCS_INPROGRESS && seconds_since(start) < 10) worker_->progress();
      ucp_request_free(r);
    }
  }

  // Progresses until UCX reports the endpoint broken, or the timeout.
  bool wait_closed(double seconds) {
    const auto start = Clock::now();
    while (!failed_ && seconds_since(start) < seconds) {
      if (!worker_->progress()) worker_->idle(50);
    }
    return failed_;
  }

 private:
  std::unique_ptr<UcxWorker> worker_;
  ucp_ep_h ep_ = nullptr;
  bool failed_ = false;
};

}  // namespace

TEST_CASE("echo of metadata only") {
  ChildProcess server;
  REQUIRE(server.start_server());
  auto c = connect_to(server);
  check_echo(*c, kOpEcho, {}, {});
  check_echo(*c, kOpEcho, pattern(1, 1), {});
  check_echo(*c, kOpEcho, pattern(100, 2), {});
  for (int i = 0; i < 100; ++i) check_echo(*c, kOpEcho, pattern(i * 10, static_cast<uint8_t>(i)), {});
}

TEST_CASE("echo with a bulk payload lands where bulk_destination said") {
  ChildProcess server;
  REQUIRE(server.start_server());
  auto c = connect_to(server);
  for (size_t size : {size_t{1}, size_t{3}, size_t{64} << 10, size_t{8} << 20}) {
    CAPTURE(size);
    check_echo(*c, kOpEcho, pattern(16, 5), pattern(size, 9));
    check_echo(*c, kOpEchoOwnBuffer, pattern(16, 6), pattern(size, 10));
  }
}

TEST_CASE("metadata larger than the AM header limit round-trips") {
  ChildProcess server;
  REQUIRE(server.start_server());
  auto c = connect_to(server);
  const auto big = pattern(200 << 10, 3);
  check_echo(*c, kOpEcho, big, {});
  check_echo(*c, kOpEcho, big, pattern(1, 4));
  check_echo(*c, kOpEcho, big, pattern(8 << 20, 5));
  check_echo(*c, kOpEchoOwnBuffer, big, pattern(64 << 10, 6));
  // Exactly around the limit on both sides of it.
  std::unique_ptr<UcxWorker> w;
  REQUIRE(UcxWorker::create("probe", UcxWorker::SharedMemory::On, w) == Status::Ok);
  const size_t limit = w->max_am_header() - sizeof(WireHeader);
  MESSAGE("max_am_header = " << w->max_am_header());
  for (size_t n : {limit - 1, limit, limit + 1}) check_echo(*c, kOpEcho, pattern(n, 7), pattern(100, 8));
}

TEST_CASE("a reply bulk larger than the room given is a ProtocolError") {
  ChildProcess server;
  REQUIRE(server.start_server());
  auto c = connect_to(server);
  for (uint64_t n : {uint64_t{100}, uint64_t{4} << 20}) {
    CAPTURE(n);
    std::vector<uint8_t> room(n - 1, 0xab);
    Reply reply;
    reply.bulk_dest = room.data();
    reply.bulk_capacity = room.size();
    std::vector<uint8_t> meta(sizeof(n));
    std::memcpy(meta.data(), &n, sizeof(n));
    CHECK(c->call(kOpSendBulk, meta, {}, reply) == Status::ProtocolError);
    CHECK(std::all_of(room.begin(), room.end(), [](uint8_t b) { return b == 0xab; }));
    // No room at all.
    Reply none;
    CHECK(c->call(kOpSendBulk, meta, {}, none) == Status::ProtocolError);
    // Exactly enough room works, and the connection is still fine.
    std::vector<uint8_t> exact(n);
    reply.bulk_dest = exact.data();
    reply.bulk_capacity = exact.size();
    REQUIRE(c->call(kOpSendBulk, meta, {}, reply) == Status::Ok);
    CHECK(reply.bulk_received == n);
    CHECK(exact[n - 1] == static_cast<uint8_t>((n - 1) * 7));
  }
  check_echo(*c, kOpEcho, pattern(10, 1), pattern(10, 2));
}

TEST_CASE("malformed messages close that peer and others are still served") {
  ChildProcess server;
  REQUIRE(server.start_server());
  auto good = connect_to(server);
  const WireHeader valid = wire::make_header(kOpEcho, 0, 0, 0);
  const std::vector<uint8_t> payload(1 << 20, 0x5a);

  struct Case {
    const char* name;
    std::vector<uint8_t> header;
    size_t data_length;
  };
  auto bytes = [](const WireHeader& h) {
    std::vector<uint8_t> v(sizeof(h));
    std::memcpy(v.data(), &h, sizeof(h));
    return v;
  };
  WireHeader bad_magic = valid;
  bad_magic.magic = 0xdeadbeef;
  WireHeader bad_version = valid;
  bad_version.version = 99;
  WireHeader bad_flags = valid;
  bad_flags.flags = 0x80;
  WireHeader meta_claimed = valid;  // claims 100 bytes of metadata, carries none
  meta_claimed.meta_length = 100;
  WireHeader bulk_claimed = valid;  // claims 1 MiB of bulk, carries 64 bytes
  bulk_claimed.bulk_length = 1 << 20;
  WireHeader rndv_claimed = valid;  // claims 4 MiB, carries 1 MiB (rendezvous)
  rndv_claimed.bulk_length = 4 << 20;
  WireHeader meta_too_big = valid;
  meta_too_big.meta_length = static_cast<uint32_t>(kMaxMetaLength + 1);
  meta_too_big.flags = wire::kFlagMetaInData;
  WireHeader bulk_too_big = valid;
  bulk_too_big.bulk_length = kMaxBulkLength + 1;
  std::vector<uint8_t> truncated = bytes(valid);
  truncated.resize(12);
  const std::vector<Case> cases = {
      {"garbage", {1, 2, 3, 4, 5, 6, 7}, 0},
      {"empty header", {}, 16},
      {"bad magic", bytes(bad_magic), 0},
      {"bad version", bytes(bad_version), 0},
      {"unknown flags", bytes(bad_flags), 0},
      {"truncated header", truncated, 0},
      {"metadata claimed but not sent", bytes(meta_claimed), 0},
      {"bulk claimed bigger than sent", bytes(bulk_claimed), 64},
      {"rendezvous bulk claimed bigger than sent", bytes(rndv_claimed), payload.size()},
      {"metadata over the limit", bytes(meta_too_big), 0},
      {"bulk over the limit", bytes(bulk_too_big), 0},
  };

  uint64_t disconnects_before = server_stats(*good).second;
  for (const Case& k : cases) {
    CAPTURE(k.name);
    RawClient raw(server.port());
    raw.send(k.header.data(), k.header.size(), payload.data(), k.data_length);
    CHECK(raw.wait_closed(10));
    // The server noticed (on_disconnect ran) and still answers the good client.
    const auto start = Clock::now();
    uint64_t disconnects = disconnects_before;
    while (disconnects == disconnects_before && seconds_since(start) < 10) {
      disconnects = server_stats(*good).second;
      if (disconnects == disconnects_before) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    CHECK(disconnects == disconnects_before + 1);
    disconnects_before = disconnects;
    check_echo(*good, kOpEcho, pattern(20, 1), pattern(1000, 2));
  }
  // A fresh client is welcome too.
  auto another = connect_to(server);
  check_echo(*another, kOpEcho, pattern(20, 3), pattern(70000, 4));
}

TEST_CASE("a message over the size limits is refused before sending") {
  ChildProcess server;
  REQUIRE(server.start_server());
  auto c = connect_to(server);
  uint8_t byte = 0;
  // Never read: the limit check comes first.
  const Segment huge[2] = {{&byte, size_t{9} << 30}, {&byte, size_t{9} << 30}};
  Reply reply;
  CHECK(c->call(kOpEcho, {}, huge, reply) == Status::InvalidArgument);
  check_echo(*c, kOpEcho, pattern(4, 1), pattern(4, 2));
}

TEST_CASE("connecting where no server listens is Unreachable") {
  // A port that was free a moment ago: the kernel refuses the connection.
  int s = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(s >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(s, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
  socklen_t len = sizeof(a);
  REQUIRE(getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  const uint16_t port = ntohs(a.sin_port);

  SUBCASE("refused") {
    close(s);
    ConnectOptions o;
    o.port = port;
    o.connect_timeout_ms = 3000;
    std::unique_ptr<ClientConnection> c;
    const auto start = Clock::now();
    CHECK(ClientConnection::connect(o, c) == Status::Unreachable);
    CHECK(seconds_since(start) < 3.5);
    CHECK(!c);
  }
  SUBCASE("a TCP listener that never speaks UCX") {
    REQUIRE(listen(s, 4) == 0);
    ConnectOptions o;
    o.port = port;
    o.connect_timeout_ms = 1000;
    std::unique_ptr<ClientConnection> c;
    const auto start = Clock::now();
    CHECK(ClientConnection::connect(o, c) == Status::Unreachable);
    const double took = seconds_since(start);
    CHECK(took < 3.0);
    CHECK(!c);
    close(s);
  }
}

TEST_CASE("a server killed during a call is ConnectionLost promptly and for good") {
  ChildProcess server;
  REQUIRE(server.start_server());
  auto c = connect_to(server);
  check_echo(*c, kOpEcho, pattern(10, 1), pattern(100, 2));
  MESSAGE("transport: " << c->transport_name());

  std::atomic<bool> killed{false};
  Clock::time_point killed_at;
  std::thread killer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    killed_at = Clock::now();
    killed = true;
    server.kill9();
  });
  Reply reply;
  const Status st = c->call(kOpNoReply, {}, {}, reply);
  killer.join();
  CHECK(st == Status::ConnectionLost);
  REQUIRE(killed);
  const double detect = seconds_since(killed_at);
  MESSAGE("killed server detected after " << detect << " s");
  CHECK(detect < 10.0);

  const auto start = Clock::now();
  CHECK(c->call(kOpEcho, {}, {}, reply) == Status::ConnectionLost);
  CHECK(seconds_since(start) < 0.5);
}

std::unique_ptr<ClientConnection> connect_with_timeout(const ChildProcess& server, int reply_timeout_ms) {
  ConnectOptions options = server.connect_options();
  options.reply_timeout_ms = reply_timeout_ms;
  std::unique_ptr<ClientConnection> c;
  REQUIRE(ClientConnection::connect(options, c) == Status::Ok);
  return c;
}

TEST_CASE("work longer than the reply timeout is waited for while the server sends heartbeats") {
  ChildProcess server;
  REQUIRE(server.start_server());
  auto c = connect_with_timeout(server, 5000);
  const uint32_t ms = 8000;
  Reply reply;
  const auto start = Clock::now();
  CHECK(c->call(kOpLateReply, {reinterpret_cast<const uint8_t*>(&ms), sizeof(ms)}, {}, reply) == Status::Ok);
  CHECK(seconds_since(start) >= 7.5);
  check_echo(*c, kOpEcho, pattern(10, 1), {});
}

TEST_CASE("a server that stops answering is a Timeout after the reply timeout, and the connection is gone") {
  ChildProcess server;
  REQUIRE(server.start_server());
  auto c = connect_with_timeout(server, 1000);
  server.stop();  // alive, connected, silent
  Reply reply;
  const auto start = Clock::now();
  const std::vector<uint8_t> bulk = pattern(4 << 20, 3);  // still being sent when the time is up
  const Segment segment{bulk.data(), bulk.size()};
  CHECK(c->call(kOpEcho, {}, {&segment, 1}, reply) == Status::Timeout);
  CHECK(seconds_since(start) < 10.0);
  CHECK(c->call(kOpEcho, {}, {}, reply) == Status::ConnectionLost);
  ::kill(server.pid(), SIGCONT);
}

TEST_CASE("with a silence limit, a server silent after a request is lost without any reply timeout") {
  ChildProcess server;
  REQUIRE(server.start_server());
  auto c = connect_with_timeout(server, 0);  // for ever: only the silence limit can end the wait
  c->set_silence_limit(500);
  Reply reply;
  // Work longer than the limit: the heartbeats keep the connection.
  const uint32_t ms = 2500;
  CHECK(c->call(kOpLateReply, {reinterpret_cast<const uint8_t*>(&ms), sizeof(ms)}, {}, reply) == Status::Ok);
  server.stop();
  CHECK(c->call(kOpEcho, {}, {}, reply) == Status::Timeout);
  CHECK(c->call(kOpEcho, {}, {}, reply) == Status::ConnectionLost);
  ::kill(server.pid(), SIGCONT);
}

TEST_CASE("a server killed between calls is ConnectionLost") {
  ChildProcess server;
  REQUIRE(server.start_server());
  auto c = connect_to(server);
  check_echo(*c, kOpEcho, {}, {});
  server.kill9();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const auto start = Clock::now();
  const auto bulk = pattern(8 << 20, 1);
  const Segment segment{bulk.data(), bulk.size()};
  Reply reply;
  CHECK(c->call(kOpEcho, {}, {&segment, 1}, reply) == Status::ConnectionLost);
  CHECK(seconds_since(start) < 10.0);
  CHECK(c->call(kOpEcho, {}, {}, reply) == Status::ConnectionLost);
}

TEST_CASE("a client killed in the middle of a transfer does not disturb the server") {
  ChildProcess server;
  REQUIRE(server.start_server());
  auto watcher = connect_to(server);
  const uint64_t disconnects = server_stats(*watcher).second;
  for (int round = 0; round < 3; ++round) {
    ChildProcess client;
    REQUIRE(client.start_client(server.port(), size_t{64} << 20));
    std::this_thread::sleep_for(std::chrono::milliseconds(5 + 20 * round));
    client.kill9();
  }
  const auto start = Clock::now();
  uint64_t now = disconnects;
  while (now < disconnects + 3 && seconds_since(start) < 10) now = server_stats(*watcher).second;
  CHECK(now == disconnects + 3);
  check_echo(*watcher, kOpEcho, pattern(7, 1), pattern(5 << 20, 2));
}

TEST_CASE("a client stopped in the middle of a transfer does not stop the server serving others") {
  ChildProcess server;
  REQUIRE(server.start_server());
  ConnectOptions options = server.connect_options();
  options.reply_timeout_ms = 10000;  // a hang, not a slow answer
  std::unique_ptr<ClientConnection> watcher;
  REQUIRE(ClientConnection::connect(options, watcher) == Status::Ok);
  // Stopped at different moments: while it uploads, while it downloads.
  for (int round = 0; round < 6; ++round) {
    ChildProcess client;
    REQUIRE(client.start_client(server.port(), size_t{64} << 20));
    std::this_thread::sleep_for(std::chrono::milliseconds(5 + 11 * round));
    client.stop();  // alive, connected, making no progress
    check_echo(*watcher, kOpEcho, pattern(7, 1), pattern(1 << 20, static_cast<uint8_t>(round)));
    client.kill9();
  }
}

TEST_CASE("two clients are served concurrently") {
  ChildProcess server;
  REQUIRE(server.start_server());
  auto a = connect_to(server);
  auto b = connect_to(server);
  // a waits for an answer that never comes; b must still be served.
  std::atomic<bool> a_returned{false};
  Status a_status = Status::Ok;
  std::thread blocked([&] {
    Reply reply;
    a_status = a->call(kOpNoReply, {}, {}, reply);
    a_returned = true;
  });
  std::atomic<int> failures{0};
  auto work = [&](uint8_t seed) {
    auto c = connect_to(server);
    for (int i = 0; i < 50; ++i) {
      const auto meta = pattern(8 + i, seed);
      const auto bulk = pattern((i % 5) * 40000 + 1, static_cast<uint8_t>(seed + i));
      std::vector<uint8_t> back(bulk.size());
      Reply reply;
      reply.bulk_dest = back.data();
      reply.bulk_capacity = back.size();
      const Segment segment{bulk.data(), bulk.size()};
      if (c->call(kOpEcho, meta, {&segment, 1}, reply) != Status::Ok || back != bulk ||
          reply.meta.size() != meta.size() + 1) {
        ++failures;
      }
    }
  };
  std::thread t1(work, 1), t2(work, 2);
  t1.join();
  t2.join();
  CHECK(failures == 0);
  check_echo(*b, kOpEcho, pattern(3, 3), pattern(3, 4));
  CHECK(!a_returned);
  server.kill9();
  blocked.join();
  CHECK(a_status == Status::ConnectionLost);
}

TEST_CASE("transport names are reported on both sides") {
  ChildProcess server;
  REQUIRE(server.start_server());
  auto c = connect_to(server);
  const std::string client_side = c->transport_name();
  Reply reply;
  REQUIRE(c->call(kOpTransportName, {}, {}, reply) == Status::Ok);
  const std::string server_side(reply.meta.begin(), reply.meta.end());
  MESSAGE("client: " << client_side << ", server: " << server_side);
  CHECK(!client_side.empty());
  CHECK(!server_side.empty());
  if (const char* tls = std::getenv("UCX_TLS"); tls && std::string(tls) == "tcp") {
    CHECK(client_side == "tcp");
    CHECK(server_side == "tcp");
  } else if (!tls && std::getenv("TRANSPORT_TEST_SHARED_MEMORY")) {
    // Two processes on one host should meet in shared memory, where the
    // machine allows it.
    WARN((client_side.find("sysv") != std::string::npos || client_side.find("posix") != std::string::npos));
  }
}

TEST_CASE("SIGTERM stops the server cleanly and its clients see ConnectionLost") {
  ChildProcess server;
  REQUIRE(server.start_server());
  auto c = connect_to(server);
  // Every way a payload can arrive, so that any receive buffer the server
  // failed to give back to UCX shows up in UCX's warnings at exit.
  for (uint16_t op : {kOpEcho, kOpEchoOwnBuffer}) {
    check_echo(*c, op, pattern(5, 1), pattern(5, 2));
    check_echo(*c, op, pattern(5, 1), pattern(1 << 20, 2));
    check_echo(*c, op, pattern(100 << 10, 1), pattern(5, 2));
    check_echo(*c, op, pattern(100 << 10, 1), pattern(1 << 20, 2));
  }
  CHECK(server.terminate() == 0);
  CHECK_MESSAGE(server.output().find("WARN") == std::string::npos, server.output());
  Reply reply;
  const auto start = Clock::now();
  CHECK(c->call(kOpEcho, {}, {}, reply) == Status::ConnectionLost);
  CHECK(seconds_since(start) < 10.0);
}

TEST_CASE("a client's orderly close reaches on_disconnect") {
  ChildProcess server;
  REQUIRE(server.start_server());
  auto watcher = connect_to(server);
  const auto [connects, disconnects] = server_stats(*watcher);
  {
    auto c = connect_to(server);
    check_echo(*c, kOpEcho, {}, {});
  }
  auto start = Clock::now();
  uint64_t now = disconnects;
  while (now == disconnects && seconds_since(start) < 10) now = server_stats(*watcher).second;
  CHECK(now == disconnects + 1);
  CHECK(server_stats(*watcher).first == connects + 1);
}

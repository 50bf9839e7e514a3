// A Server with an echoing Handler, run as a separate process by the tests.
// Prints "PORT <n>" on stdout once listening; SIGTERM stops it cleanly.
// Usage: transport_test_server <parent pid>
//
// With "client <port> <bytes>" after the parent pid it is a client instead,
// echoing <bytes> of bulk over and over until killed; it prints "CALLING 1"
// just before its first call.
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "tests/transport/test_protocol.h"
#include "transport/transport.h"

namespace {

using namespace rrto::transport;

Server* g_server = nullptr;

void on_sigterm(int) {
  if (g_server) g_server->stop();
}

// The transport promises never to call the Handler re-entrantly; die loudly
// (the tests then see ConnectionLost) if it does.
class CallbackGuard {
 public:
  explicit CallbackGuard(int& depth) : depth_(depth) {
    if (depth_++ != 0) {
      std::fprintf(stderr, "transport_test_server: Handler called re-entrantly\n");
      std::abort();
    }
  }
  ~CallbackGuard() { --depth_; }

 private:
  int& depth_;
};

class EchoHandler : public Handler {
 public:
  Server* server = nullptr;

  void finish_late_replies() { later_.clear(); }

  void on_connect(PeerId, const std::string&) override {
    CallbackGuard guard(depth_);
    ++connects_;
  }
  void on_disconnect(PeerId peer) override {
    CallbackGuard guard(depth_);
    ++disconnects_;
    buffers_.erase(peer);
    replies_.erase(peer);
  }

  void* bulk_destination(PeerId peer, uint16_t opcode, std::span<const uint8_t>, uint64_t bulk_length) override {
    CallbackGuard guard(depth_);
    if (opcode == test::kOpEchoOwnBuffer) return nullptr;
    auto& buffer = buffers_[peer];
    buffer.resize(bulk_length);
    return buffer.data();
  }

  void on_message(PeerId peer, const Message& m) override {
    CallbackGuard guard(depth_);
    // The reply may still be going out after this returns: what it sends
    // stays here until the peer's next message.
    Reply& r = replies_[peer];
    std::vector<uint8_t>& meta = r.meta;
    std::vector<uint8_t>& bulk = r.bulk;
    std::vector<Segment>& segments = r.segments;
    meta.clear();
    segments.clear();
    switch (m.opcode) {
      case test::kOpEcho:
      case test::kOpEchoOwnBuffer: {
        const bool landed = m.bulk.empty() || m.opcode == test::kOpEchoOwnBuffer ||
                            m.bulk.data() == buffers_[peer].data();
        meta.push_back(landed ? 1 : 0);
        meta.insert(meta.end(), m.meta.begin(), m.meta.end());
        // The transport's own buffer is not ours to keep.
        std::span<const uint8_t> echoed = m.bulk;
        if (m.opcode == test::kOpEchoOwnBuffer) {
          bulk.assign(m.bulk.begin(), m.bulk.end());
          echoed = bulk;
        }
        // Two segments, to exercise the IOV path.
        const size_t half = echoed.size() / 2;
        if (half) segments.push_back({echoed.data(), half});
        if (echoed.size() - half) segments.push_back({echoed.data() + half, echoed.size() - half});
        break;
      }
      case test::kOpNoReply:
        return;
      case test::kOpLateReply: {
        uint32_t ms = 0;
        if (m.meta.size() == sizeof(ms)) std::memcpy(&ms, m.meta.data(), sizeof(ms));
        later_.emplace_back([this, peer, ms] {
          std::this_thread::sleep_for(std::chrono::milliseconds(ms));
          server->post([this, peer] { server->reply(peer, test::kOpLateReply, {}, {}); });
        });
        return;
      }
      case test::kOpSendBulk: {
        uint64_t n = 0;
        if (m.meta.size() == sizeof(n)) std::memcpy(&n, m.meta.data(), sizeof(n));
        bulk.resize(n);
        for (size_t i = 0; i < n; ++i) bulk[i] = static_cast<uint8_t>(i * 7);
        segments.push_back({bulk.data(), bulk.size()});
        break;
      }
      case test::kOpTransportName: {
        const std::string name = server->transport_name(peer);
        meta.assign(name.begin(), name.end());
        break;
      }
      case test::kOpStats: {
        meta.resize(16);
        std::memcpy(meta.data(), &connects_, 8);
        std::memcpy(meta.data() + 8, &disconnects_, 8);
        break;
      }
      default:
        server->close_peer(peer);
        return;
    }
    server->reply(peer, m.opcode, meta, segments);
  }

 private:
  int depth_ = 0;
  std::vector<std::jthread> later_;  // replies on their way
  uint64_t connects_ = 0;
  uint64_t disconnects_ = 0;
  std::map<PeerId, std::vector<uint8_t>> buffers_;
  struct Reply {
    std::vector<uint8_t> meta, bulk;
    std::vector<Segment> segments;
  };
  std::map<PeerId, Reply> replies_;
};

int run_client(uint16_t port, size_t bytes) {
  ConnectOptions options;
  options.port = port;
  std::unique_ptr<ClientConnection> c;
  if (!rrto::ok(ClientConnection::connect(options, c))) return 1;
  std::vector<uint8_t> bulk(bytes, 0x33), back(bytes);
  const Segment segment{bulk.data(), bulk.size()};
  std::printf("CALLING 1\n");
  std::fflush(stdout);
  for (;;) {
    Reply reply;
    reply.bulk_dest = back.data();
    reply.bulk_capacity = back.size();
    if (!rrto::ok(c->call(test::kOpEcho, {}, {&segment, 1}, reply))) return 2;
  }
}

}  // namespace

int main(int argc, char** argv) {
  // Never outlive the test that started us, even if it is killed.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (argc > 1 && getppid() != static_cast<pid_t>(std::atol(argv[1]))) return 3;
  if (argc == 5 && std::strcmp(argv[2], "client") == 0) {
    return run_client(static_cast<uint16_t>(std::atoi(argv[3])), std::strtoull(argv[4], nullptr, 10));
  }

  EchoHandler handler;
  std::unique_ptr<Server> server;
  const bool shared_memory = std::getenv("TRANSPORT_TEST_SHARED_MEMORY") != nullptr;
  if (!rrto::ok(Server::listen(ListenOptions{.address = "127.0.0.1", .port = 0, .shared_memory = shared_memory}, handler,
                               server)))
    return 1;
  handler.server = server.get();
  g_server = server.get();
  struct sigaction sa {};
  sa.sa_handler = on_sigterm;
  sigaction(SIGTERM, &sa, nullptr);

  std::printf("PORT %u\n", server->port());
  std::fflush(stdout);
  const rrto::Status st = server->run();
  g_server = nullptr;
  handler.finish_late_replies();  // they post to the server, which must still be there
  return rrto::ok(st) ? 0 : 2;
}

// In-process checks of Server's lifecycle (no client needed).
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

#include "transport/transport.h"

using namespace rrto;
using namespace rrto::transport;

namespace {

struct NullHandler : Handler {
  void on_connect(PeerId, const std::string&) override { ++connects; }
  void on_disconnect(PeerId) override {}
  void* bulk_destination(PeerId, uint16_t, std::span<const uint8_t>, uint64_t) override { return nullptr; }
  void on_message(PeerId, const Message&) override {}
  void on_tick() override { ++ticks; }
  std::atomic<int> connects{0}, ticks{0};
};

// A server serving on a thread of its own until the test ends.
struct RunningServer {
  explicit RunningServer(ListenOptions options) {
    REQUIRE(Server::listen(options, handler, server) == Status::Ok);
    thread = std::thread([this] { server->run(); });
  }
  ~RunningServer() {
    server->stop();
    thread.join();
  }
  NullHandler handler;
  std::unique_ptr<Server> server;
  std::thread thread;
};

}  // namespace

TEST_CASE("port 0 picks a free port and stop() from another thread ends run()") {
  NullHandler handler;
  std::unique_ptr<Server> server;
  REQUIRE(Server::listen(ListenOptions{"127.0.0.1", 0}, handler, server) == Status::Ok);
  CHECK(server->port() != 0);
  const auto start = std::chrono::steady_clock::now();
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    server->stop();
  });
  CHECK(server->run() == Status::Ok);
  stopper.join();
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(3));
}

TEST_CASE("stop() before run() makes run() return at once") {
  NullHandler handler;
  std::unique_ptr<Server> server;
  REQUIRE(Server::listen(ListenOptions{"127.0.0.1", 0}, handler, server) == Status::Ok);
  server->stop();
  CHECK(server->run() == Status::Ok);
}

TEST_CASE("two servers cannot listen on the same port") {
  NullHandler handler;
  std::unique_ptr<Server> first, second;
  REQUIRE(Server::listen(ListenOptions{"127.0.0.1", 0}, handler, first) == Status::Ok);
  CHECK(Server::listen(ListenOptions{"127.0.0.1", first->port()}, handler, second) != Status::Ok);
  CHECK(!second);
}

TEST_CASE("connections past max_connections are refused; the handler hears of the others and gets its ticks") {
  RunningServer running(ListenOptions{.address = "127.0.0.1", .port = 0, .max_connections = 1});
  std::unique_ptr<ClientConnection> first, second;
  REQUIRE(ClientConnection::connect({.host = "127.0.0.1", .port = running.server->port()}, first) == Status::Ok);
  CHECK(ClientConnection::connect(
            {.host = "127.0.0.1", .port = running.server->port(), .connect_timeout_ms = 2000}, second) != Status::Ok);
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (running.handler.ticks == 0 && std::chrono::steady_clock::now() < give_up)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(running.handler.connects == 1);
  CHECK(running.handler.ticks > 0);
}

TEST_CASE("a server leaves shared memory to local clients only when told to") {
  if (std::getenv("UCX_TLS")) return;  // the environment chose the transports
  for (const bool shared_memory : {false, true}) {
    CAPTURE(shared_memory);
    RunningServer running(ListenOptions{.address = "127.0.0.1", .port = 0, .shared_memory = shared_memory});
    std::unique_ptr<ClientConnection> client;
    REQUIRE(ClientConnection::connect({.host = "127.0.0.1", .port = running.server->port()}, client) == Status::Ok);
    const std::string used = client->transport_name();
    MESSAGE("transports: " << used);
    const bool shm = used.find("sysv") != std::string::npos || used.find("posix") != std::string::npos;
    if (shared_memory) {
      WARN(shm);  // where the machine allows it
    } else {
      CHECK_FALSE(shm);
    }
  }
}

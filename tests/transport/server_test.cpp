// In-process checks of Server's lifecycle (no client needed).
#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <thread>

#include "transport/transport.h"

using namespace rrto;
using namespace rrto::transport;

namespace {

struct NullHandler : Handler {
  void on_connect(PeerId, const std::string&) override {}
  void on_disconnect(PeerId) override {}
  void* bulk_destination(PeerId, uint16_t, std::span<const uint8_t>, uint64_t) override { return nullptr; }
  void on_message(PeerId, const Message&) override {}
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

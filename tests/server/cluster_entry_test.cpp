// A server's entry in the cluster, as written to and read from etcd.
#include <doctest/doctest.h>

#include "protocol/calls.h"
#include "server/cluster/membership.h"

using namespace rrto::server::cluster;

TEST_CASE("a server's entry reads back as it was written") {
  const ServerEntry e{.name = "gpu-1", .address = "10.0.0.2:18515", .devices = 2, .free_memory = 3ull << 30,
                      .sessions = 5, .busy = 0.25, .windows = {3, 77}};
  ServerEntry back;
  REQUIRE(from_json(to_json(e), back));
  CHECK(back.name == e.name);
  CHECK(back.address == e.address);
  CHECK(back.devices == 2);
  CHECK(back.free_memory == 3ull << 30);
  CHECK(back.sessions == 5);
  CHECK(back.busy == doctest::Approx(0.25));
  CHECK(back.windows == std::vector<uint64_t>{3, 77});
}

TEST_CASE("what is not an entry, or names no address to send clients to, is not read as one") {
  ServerEntry e;
  CHECK_FALSE(from_json("not json", e));
  CHECK_FALSE(from_json("[]", e));
  CHECK_FALSE(from_json(R"({"name": "a", "address": "h:1", "devices": 1, "free_memory": 1, "sessions": 0})", e));
  CHECK_FALSE(from_json(
      R"({"name": "a", "address": "h:1", "devices": -1, "free_memory": 1, "sessions": 0, "busy": 0})", e));
  CHECK_FALSE(from_json(
      R"({"name": "a", "address": "nowhere", "devices": 1, "free_memory": 1, "sessions": 0, "busy": 0})", e));
  CHECK_FALSE(from_json(
      R"({"name": "a", "address": "h:0", "devices": 1, "free_memory": 1, "sessions": 0, "busy": 0})", e));
  CHECK_FALSE(from_json(
      R"({"name": "a", "address": "h:1", "devices": 1, "free_memory": 1, "sessions": 0, "busy": 0, "windows": [-2]})",
      e));
  CHECK(from_json(R"({"name": "a", "address": "h:1", "devices": 1, "free_memory": 1, "sessions": 0, "busy": 0})", e));
}

TEST_CASE("load is sessions per device once the new session is counted, and equal is not less") {
  using rrto::proto::less_loaded;
  CHECK(less_loaded(1, 2, 1, 1));        // 2/2 against 2/1
  CHECK_FALSE(less_loaded(1, 1, 1, 1));  // equal: stay
  CHECK_FALSE(less_loaded(3, 4, 0, 1));  // 4/4 against 1/1
  CHECK(less_loaded(0, 1, 4, 4));        // 1/1 against 5/4
  CHECK_FALSE(less_loaded(4, 4, 0, 1));  // 5/4 against 1/1
}

#include <doctest/doctest.h>

#include "config/config.h"

using rrto::config::format_host_port;
using rrto::config::parse_host_port;
using rrto::config::ServerAddress;

TEST_CASE("parse_host_port accepts names, IPv4 and bracketed IPv6") {
  ServerAddress a;
  REQUIRE(parse_host_port("edge-1.example:18515", a));
  CHECK(a.host == "edge-1.example");
  CHECK(a.port == 18515);
  REQUIRE(parse_host_port("10.0.0.2:1", a));
  CHECK(a.host == "10.0.0.2");
  CHECK(a.port == 1);
  REQUIRE(parse_host_port("[fe80::1%eth0]:65535", a));
  CHECK(a.host == "fe80::1%eth0");
  CHECK(a.port == 65535);
  REQUIRE(parse_host_port("0.0.0.0:0", a));
  CHECK(a.port == 0);
}

TEST_CASE("parse_host_port rejects malformed text and leaves the output alone") {
  for (const char* bad : {"", "host", "host:", ":80", "host:65536", "host:-1", "host:+1", "host:8o", "host:123456",
                          "::1:80", "[::1]80", "[::1", "[]:80", "a b:80", "a,b:80", "host: 80"}) {
    CAPTURE(bad);
    ServerAddress a{"unchanged", 7};
    CHECK_FALSE(parse_host_port(bad, a));
    CHECK(a.host == "unchanged");
    CHECK(a.port == 7);
  }
}

TEST_CASE("format_host_port brackets IPv6 and round-trips") {
  CHECK(format_host_port({"10.0.0.2", 18515}) == "10.0.0.2:18515");
  CHECK(format_host_port({"::1", 80}) == "[::1]:80");
  ServerAddress a;
  REQUIRE(parse_host_port(format_host_port({"::1", 80}), a));
  CHECK(a.host == "::1");
}

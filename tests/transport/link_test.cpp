#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "transport/link.h"

using namespace rrto;
using namespace rrto::transport;
using namespace std::chrono_literals;

namespace {

LinkProfile parse_ok(const std::string& spec) {
  LinkProfile link;
  std::string why;
  INFO(spec);
  REQUIRE(ok(parse_link(spec, link, why)));
  return link;
}

std::string parse_error(const std::string& spec) {
  LinkProfile link;
  link.one_way = 7ms;
  std::string why;
  INFO(spec);
  CHECK(parse_link(spec, link, why) == Status::InvalidArgument);
  CHECK(link.one_way == 7ms);  // unchanged
  CHECK(!why.empty());
  return why;
}

}  // namespace

TEST_CASE("off: empty, off and none") {
  for (const char* spec : {"", "off", "none", " OFF "}) {
    const LinkProfile link = parse_ok(spec);
    CHECK(!link.enabled());
    CHECK(link.describe() == "off");
    CHECK(link.delay(LinkDirection::Up, 1 << 20) == 0ns);
  }
}

TEST_CASE("rtt and bandwidth") {
  const LinkProfile link = parse_ok("rtt=5ms,bw=100mbit");
  CHECK(link.one_way == 2500us);
  CHECK(link.up_bits_per_second == 100'000'000);
  CHECK(link.down_bits_per_second == 100'000'000);
  CHECK(link.describe() == "rtt=5ms,bw=100mbit");
  // 1 MB at 100 Mbit/s: 80 ms, plus the one-way delay.
  CHECK(link.delay(LinkDirection::Up, 1'000'000) == 2500us + 80ms);
}

TEST_CASE("units, one-way delay and per-direction bandwidth") {
  CHECK(parse_ok("delay=250us").one_way == 250us);
  CHECK(parse_ok("rtt=0.5ms").one_way == 250us);
  CHECK(parse_ok("rtt=1s").one_way == 500ms);
  CHECK(parse_ok("rtt=1.5ms").describe() == "rtt=1.5ms");
  const LinkProfile link = parse_ok(" up = 20mbit , down=1gbit, bw=5kbit ");
  // bw is overridden by up/down whatever the order.
  CHECK(link.up_bits_per_second == 20'000'000);
  CHECK(link.down_bits_per_second == 1'000'000'000);
  CHECK(!link.one_way.count());
  CHECK(link.describe() == "up=20mbit,down=1gbit");
  CHECK(link.delay(LinkDirection::Down, 125) == 1us);
}

TEST_CASE("presets, alone and with overrides") {
  REQUIRE(!link_presets().empty());
  for (const LinkPreset& p : link_presets()) {
    const LinkProfile link = parse_ok(p.name);
    CHECK(link.enabled());
    CHECK(link.preset == p.name);
    // describe() parses back to the same profile.
    const LinkProfile again = parse_ok(link.describe());
    CHECK(again.one_way == link.one_way);
    CHECK(again.up_bits_per_second == link.up_bits_per_second);
    CHECK(again.down_bits_per_second == link.down_bits_per_second);
  }
  const LinkProfile g = parse_ok("5g,rtt=20ms");
  CHECK(g.one_way == 10ms);
  CHECK(g.up_bits_per_second == parse_ok("5g").up_bits_per_second);
  CHECK(g.describe().rfind("5g,rtt=20ms,", 0) == 0);
}

TEST_CASE("bad specs name the problem") {
  CHECK(parse_error("rtt=5").find("unit") != std::string::npos);
  CHECK(parse_error("bw=100mbps").find("mbps") != std::string::npos);
  CHECK(parse_error("rtt=5ms,delay=1ms").find("rtt") != std::string::npos);
  CHECK(parse_error("bw=1mbit,bw=2mbit").find("twice") != std::string::npos);
  CHECK(parse_error("wifi9").find("wifi6") != std::string::npos);  // lists the presets
  CHECK(parse_error("jitter=1ms").find("jitter") != std::string::npos);
  parse_error("rtt=-1ms");
  parse_error("bw=0mbit");
  parse_error("rtt=5ms,");
  parse_error("rtt=120s");
  parse_error("rtt=ms");
  parse_error("lan,wifi6");
}

TEST_CASE("hold_message waits at least the delay") {
  const LinkProfile link = parse_ok("rtt=4ms");
  int ticks = 0;
  const auto start = std::chrono::steady_clock::now();
  hold_message(link, LinkDirection::Up, 100, [&] { ++ticks; });
  const auto waited = std::chrono::steady_clock::now() - start;
  CHECK(waited >= 2ms);
  CHECK(waited < 500ms);
  CHECK(ticks >= 0);
}

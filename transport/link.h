// Link emulation for benchmarks: a one-way delay and a bandwidth limit added
// to every message, because this kind of machine has no netem.
//
// A profile comes from a spec such as "rtt=5ms,bw=100mbit" or a preset name
// ("wifi6"), optionally followed by overrides ("5g,rtt=20ms"):
//
//   rtt=T     round-trip delay; each direction gets T/2      (us, ms, s; e.g. 0.5ms)
//   delay=T   one-way delay (the same thing, given per direction; not with rtt)
//   bw=R      bandwidth of both directions                   (bit, kbit, mbit, gbit; decimal, as tc)
//   up=R      client-to-server bandwidth, down=R server-to-client (override bw)
//
// "", "off" and "none" mean no emulation. The model is a store-and-forward
// link that one message crosses at a time: a message of B bytes is held for
// the one-way delay plus B / bandwidth before it counts as delivered. RRTO's
// client has one call in flight at a time, so the model is exact for it.
//
// This file knows nothing of UCX: the config, the transport and rrto-perftest
// all parse specs with it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "common/status.h"

namespace rrto::transport {

enum class LinkDirection { Up, Down };  // client to server, server to client

struct LinkProfile {
  std::string preset;                  // the preset it started from, if any
  std::chrono::nanoseconds one_way{0};
  uint64_t up_bits_per_second = 0;    // 0: no limit
  uint64_t down_bits_per_second = 0;  // 0: no limit

  bool enabled() const { return one_way.count() > 0 || up_bits_per_second > 0 || down_bits_per_second > 0; }
  std::chrono::nanoseconds rtt() const { return one_way * 2; }

  // How long a message of `bytes` bytes is held: one-way delay + bytes / bandwidth.
  std::chrono::nanoseconds delay(LinkDirection direction, uint64_t bytes) const;

  // Canonical text, parseable again: "off", "rtt=5ms,bw=100mbit",
  // "wifi6 (rtt=2ms,bw=600mbit)".
  std::string describe() const;
};

// On failure returns InvalidArgument with `why` naming the bad part, and
// leaves `out` unchanged.
Status parse_link(std::string_view spec, LinkProfile& out, std::string& why);

struct LinkPreset {
  const char* name;
  const char* spec;
  const char* what;  // one line for help texts; the sources are in perf/README.md
};
std::span<const LinkPreset> link_presets();

// Sleeps until `deadline`: nanosleep for the bulk, then spins the last stretch
// (sleeps overshoot by tens of microseconds). During long waits `keep_alive`
// (if set) runs about every 10 ms, e.g. to progress a UCX worker.
void wait_until(std::chrono::steady_clock::time_point deadline, const std::function<void()>& keep_alive = {});

// Holds a message of `bytes` bytes as `link` says; nothing when it is off.
void hold_message(const LinkProfile& link, LinkDirection direction, uint64_t bytes,
                  const std::function<void()>& keep_alive = {});

}  // namespace rrto::transport

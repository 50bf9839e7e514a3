// What the misbehaving client tries, one kind at a time, each on a fresh
// connection: every attempt must be refused (peer.h, Outcome).
#pragma once

#include <cstdint>
#include <random>
#include <span>

#include "module_image/module_image.h"
#include "perf/soak/peer.h"

namespace rrto::soak {

struct Context {
  Target target;
  uint64_t max_message_bytes = 0;    // the server's limits.max_message_mb
  const ModuleImage* image = nullptr;  // kernels for the launch attempts; none: they are not tried
  std::mt19937_64 rng{1};
};

struct Attempt {
  const char* name;
  Outcome (*run)(Context&);
  bool needs_key;    // only against a server with an auth key
  bool needs_image;  // only with a module image to launch from
};

// Every kind the loop tries, in a fixed order.
std::span<const Attempt> attempts();

// A launch with the largest grid the device allows: only refused where the
// server bounds a kernel's run time (otherwise it occupies a device for
// good), so only tried when asked for.
Outcome runaway_grid(Context& context);

// A connection that never says Hello: after `hello_timeout_s` (and a margin)
// the server must have closed it, so that a correct Hello finds it gone.
Outcome idle_connection(const Target& target, int hello_timeout_s);

}  // namespace rrto::soak

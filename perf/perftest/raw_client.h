// The client side of the raw UCX tests (raw_protocol.h), over the same UCX
// set-up as RRTO's transport (transport/ucx_worker.h: same features, same
// error handling, same waiting), and the same link emulation.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/status.h"
#include "transport/link.h"

namespace rrto::perf {

class RawClient {
 public:
  virtual ~RawClient() = default;

  // Connects and exchanges an Info message (which proves the server is there).
  static Status connect(const std::string& host, uint16_t port, const transport::LinkProfile& link,
                        std::unique_ptr<RawClient>& out);

  // What the server answered to Info.
  virtual const std::string& info() const = 0;
  virtual std::string transport_name() const = 0;

  // One round trip: `size` bytes up, as many back.
  virtual Status echo(size_t size) = 0;
  // `count` messages of `size` bytes one way, at most `window` in flight, the
  // last one acknowledged. `on_sent` gets the time since the previous send
  // completed (the first: since the start), in ns.
  virtual Status stream(size_t size, uint64_t count, unsigned window,
                        const std::function<void(uint64_t)>& on_sent) = 0;
};

}  // namespace rrto::perf

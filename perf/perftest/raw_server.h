// The server side of the raw UCX tests: plain ucp active messages, answered
// as raw_protocol.h says. Payloads land in one buffer, as an RRTO server's
// land in device memory: eager ones copied, rendezvous ones fetched there.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"

namespace rrto::perf {

class RawServer {
 public:
  virtual ~RawServer() = default;

  // Listens on address:port (port 0: any free port). `info` answers Info.
  // shared_memory: whether clients on this host may use it (as rrto-server's
  // local_shared_memory).
  static Status listen(const std::string& address, uint16_t port, bool shared_memory, std::string info,
                       std::unique_ptr<RawServer>& out);

  virtual uint16_t port() const = 0;
  // Serves until `stop` is set; `wake_fd` becoming readable wakes the loop.
  virtual void run(const std::atomic<bool>& stop, int wake_fd) = 0;
};

}  // namespace rrto::perf

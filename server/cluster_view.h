// The other servers of this server's edge cluster (server/cluster/), as last
// read: where a new session would do better than here.
#pragma once

#include <cstdint>
#include <string>

namespace rrto::server {

class ClusterView {
 public:
  virtual ~ClusterView() = default;
  // The address of a server of the cluster where a new session would find
  // fewer sessions per device than here (`devices`, `sessions`: this
  // server's now) and room for it (`memory` bytes free); empty when none
  // would. The server
  // chosen counts the session from then on.
  virtual std::string better_server(uint32_t devices, uint64_t sessions, uint64_t memory) = 0;
  // An address window (address_window.h) claimed for this server in the
  // cluster ahead of need, for a new session; 0 when there is none at hand.
  virtual uint64_t take_window() = 0;
  // Whether another server of the cluster said it holds address window
  // `window` when last read.
  virtual bool window_taken(uint64_t window) = 0;
  // The other servers' addresses, "host:port,host:port...": where a client
  // goes when this server is lost.
  virtual std::string peers() = 0;
};

}  // namespace rrto::server

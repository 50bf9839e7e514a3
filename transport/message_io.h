// Putting one RRTO message into a UCX active message, and pulling a
// rendezvous payload out of one.
#pragma once

#include <ucp/api/ucp.h>

#include <cstdint>
#include <span>
#include <vector>

#include "common/status.h"
#include "transport/transport.h"
#include "transport/ucx_worker.h"

namespace rrto::transport {

// Reusable storage for sending messages; the bulk goes straight from the
// caller's segments (UCP_DATATYPE_IOV), never through a staging copy.
class Outgoing {
 public:
  // Starts sending. `request` is set to the UCX request to wait on and free
  // (nullptr when it completed at once); `done` reports completion. The
  // caller's meta and bulk, and this object, must stay untouched until
  // done.done (UCX 1.13 has no UCP_AM_SEND_FLAG_COPY_HEADER: it reads the
  // header held here until the send completes).
  Status start(ucp_ep_h ep, size_t max_am_header, uint16_t opcode, uint32_t wire_flags,
               std::span<const uint8_t> meta, std::span<const Segment> bulk, uint32_t am_flags,
               Completion& done, void*& request);

 private:
  // The header (with the metadata when it fits): in small_header_ when
  // that is large enough, else in header_.
  static constexpr size_t kSmallHeader = 256;
  alignas(8) uint8_t small_header_[kSmallHeader];
  std::vector<uint8_t> header_;
  std::vector<ucp_dt_iov_t> iov_;
};

// Receives the data of a message UCX delivered as a descriptor (rendezvous)
// into `parts`, in order (no empty parts). `parts` itself must stay valid
// until done: UCX reads the list while the transfer runs. Returns the request
// to wait on and free, or nullptr when `done` is already set.
void* receive_data(ucp_worker_h worker, void* descriptor, std::span<const ucp_dt_iov_t> parts,
                   Completion& done);

}  // namespace rrto::transport

// One UCX context with one worker, set up the way every RRTO endpoint needs
// (active messages + wakeup), plus the progress/sleep loop both sides share.
#pragma once

#include <ucp/api/ucp.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "common/status.h"

namespace rrto::transport {

inline constexpr const char* kLogComponent = "transport";

class UcxWorker {
 public:
  // `name` shows up in UCX's own diagnostics.
  // Shared memory: whether peers on this host may reach this worker through
  // UCX's posix/sysv transports. Their receive queue is one FIFO shared by all
  // local senders, so a sender that dies (or stops) between taking a slot and
  // filling it stalls delivery for everyone: a server facing untrusted clients
  // leaves it off, and its local clients talk TCP loopback.
  enum class SharedMemory { Off, On };
  static Status create(const char* name, SharedMemory shared_memory, std::unique_ptr<UcxWorker>& out);
  ~UcxWorker();
  UcxWorker(const UcxWorker&) = delete;
  UcxWorker& operator=(const UcxWorker&) = delete;

  ucp_worker_h get() const { return worker_; }
  // Largest AM header UCX accepts on this worker.
  size_t max_am_header() const { return max_am_header_; }

  // `id`: the AM id (RRTO's messages use wire::kAmId).
  Status set_am_handler(ucp_am_recv_callback_t cb, void* arg, uint32_t flags, unsigned id);

  // Listens on address:port (port 0: a free one); `bound` is the address
  // actually bound.
  Status listen(const std::string& address, uint16_t port, ucp_listener_conn_callback_t on_request, void* arg,
                ucp_listener_h& listener, sockaddr_storage& bound);

  // One round of ucp_worker_progress; true when it did anything.
  bool progress();

  // How long idle() spins before it sleeps.
  static constexpr std::chrono::microseconds kSpinTime{100};

  // Call after a progress() that did nothing. Spins for kSpinTime (so a
  // reply that is microseconds away costs no sleep; not with `spin` false),
  // then arms the worker and sleeps until it has events, `wake_fd` (if >= 0, a
  // non-blocking eventfd, read here to clear it) is readable, or timeout_ms
  // passes. The timeout bounds how long UCX's timers (keepalive, error
  // detection) can go unprogressed. True once past the spin (it slept, or
  // found events pending as it tried to).
  bool idle(int timeout_ms, int wake_fd = -1, bool spin = true) {
    return idle_at(std::chrono::steady_clock::now(), timeout_ms, wake_fd, spin);
  }
  // The same, for a caller that has just read the clock (`now`); `held`, if
  // given, is let go of while it sleeps.
  bool idle_at(std::chrono::steady_clock::time_point now, int timeout_ms, int wake_fd = -1, bool spin = true,
               std::unique_lock<std::mutex>* held = nullptr);

 private:
  UcxWorker() = default;

  ucp_context_h context_ = nullptr;
  ucp_worker_h worker_ = nullptr;
  int efd_ = -1;
  size_t max_am_header_ = 0;
  bool spinning_ = false;
  std::chrono::steady_clock::time_point spin_start_{};
};

// Completion of one UCX request, filled in by its callback.
struct Completion {
  bool done = false;
  ucs_status_t status = UCS_OK;
};

ucp_request_param_t send_param(Completion& c);
ucp_request_param_t recv_param(Completion& c);

// Turns the result of an *_nbx call into `c` (immediate completion or error)
// and returns the request to free once c.done, or nullptr.
void* track(ucs_status_ptr_t result, Completion& c);

// Which transports UCX uses on `ep`, e.g. "tcp" or "posix,sysv", from
// ucp_ep_print_info (UCX 1.13 has no query for it). "" when unknown.
std::string ep_transports(ucp_ep_h ep);

// Parses host (name or numeric, v4 or v6) and port into a socket address.
Status resolve(const std::string& host, uint16_t port, bool passive, sockaddr_storage& out,
               socklen_t& out_len);
// "1.2.3.4:5678" or "[::1]:5678".
std::string format_address(const sockaddr_storage& address);
uint16_t address_port(const sockaddr_storage& address);

}  // namespace rrto::transport

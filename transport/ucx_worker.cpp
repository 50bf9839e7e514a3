#include "transport/ucx_worker.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <vector>

#include "common/log.h"
#include "transport/wire.h"

namespace rrto::transport {
namespace {

// UCX's default (20 s) would leave a client blocked on a vanished server for
// a long time; it is only used when the user did not choose a value.
constexpr const char* kDefaultKeepaliveInterval = "1s";

void on_send_done(void* request, ucs_status_t status, void* user_data) {
  auto* c = static_cast<Completion*>(user_data);
  c->done = true;
  c->status = status;
}

void on_recv_done(void* request, ucs_status_t status, size_t length, void* user_data) {
  on_send_done(request, status, user_data);
}

// Sets a UCX option (name without the UCX_ prefix) unless the user set it.
void set_default(ucp_config_t* config, const char* name, const char* value) {
  if (std::getenv(fmt::format("UCX_{}", name).c_str())) return;
  const ucs_status_t s = ucp_config_modify(config, name, value);
  if (s != UCS_OK) RRTO_DEBUG(kLogComponent, "cannot set UCX_{}={}: {}", name, value, ucs_status_string(s));
}

// Whether UCX_TLS leaves UCX free to use posix/sysv shared memory. Setting
// MM_ERROR_HANDLING when it does not makes UCX warn about an unused option.
bool shared_memory_allowed() {
  const char* tls = std::getenv("UCX_TLS");
  if (!tls || !*tls) return true;
  std::string list = tls;
  const bool excluding = list[0] == '^';
  if (excluding) list.erase(0, 1);
  bool all = false, posix = false, sysv = false;
  std::istringstream names(list);
  for (std::string name; std::getline(names, name, ',');) {
    const bool every_shm = name == "sm" || name == "shm" || name == "mm";
    all |= name == "all";
    posix |= every_shm || name == "posix";
    sysv |= every_shm || name == "sysv";
  }
  return excluding ? !(posix && sysv) : (all || posix || sysv);
}

// "#  lane[1]:  3:sysv/memory.0 md[2] -> ..." gives "sysv"; CM lanes
// ("lane[0]: cm rdmacm") only set the connection up and are skipped.
std::string transports_from_ep_info(const std::string& info) {
  std::vector<std::string> names;
  size_t at = 0;
  while ((at = info.find("lane[", at)) != std::string::npos) {
    const size_t colon = info.find("]:", at);
    const size_t eol = info.find('\n', at);
    at = eol;
    if (colon == std::string::npos || colon > eol) continue;
    std::istringstream line(info.substr(colon + 2, eol - colon - 2));
    std::string token;
    line >> token;
    if (token == "cm") continue;
    const size_t start = token.find(':');
    const size_t end = token.find('/');
    if (start == std::string::npos || end == std::string::npos || end <= start) continue;
    std::string name = token.substr(start + 1, end - start - 1);
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(std::move(name));
  }
  std::string joined;
  for (const std::string& n : names) joined += (joined.empty() ? "" : ",") + n;
  return joined;
}

}  // namespace

Status UcxWorker::create(const char* name, SharedMemory shared_memory, std::unique_ptr<UcxWorker>& out) {
  std::unique_ptr<UcxWorker> w(new UcxWorker());

  ucp_config_t* config = nullptr;
  ucs_status_t s = ucp_config_read(nullptr, nullptr, &config);
  if (s != UCS_OK) {
    RRTO_ERROR(kLogComponent, "cannot read UCX configuration: {}", ucs_status_string(s));
    return Status::InternalError;
  }
  set_default(config, "KEEPALIVE_INTERVAL", kDefaultKeepaliveInterval);
  if (shared_memory == SharedMemory::Off) {
    set_default(config, "TLS", "^sysv,posix");
  } else if (shared_memory_allowed() && !std::getenv("UCX_POSIX_ERROR_HANDLING") &&
             !std::getenv("UCX_SYSV_ERROR_HANDLING")) {
    // Our endpoints need peer-failure handling, which UCX 1.13's
    // shared-memory transports only claim when asked (see SharedMemory).
    set_default(config, "MM_ERROR_HANDLING", "y");
  }

  ucp_params_t params{};
  params.field_mask = UCP_PARAM_FIELD_FEATURES | UCP_PARAM_FIELD_NAME;
  params.features = UCP_FEATURE_AM | UCP_FEATURE_WAKEUP;
  params.name = name;
  s = ucp_init(&params, config, &w->context_);
  ucp_config_release(config);
  if (s != UCS_OK) {
    RRTO_ERROR(kLogComponent, "cannot initialise UCX: {}", ucs_status_string(s));
    return Status::InternalError;
  }

  ucp_worker_params_t wparams{};
  wparams.field_mask = UCP_WORKER_PARAM_FIELD_THREAD_MODE;
  // One thread at a time, not always the same one (callers serialise).
  wparams.thread_mode = UCS_THREAD_MODE_SERIALIZED;
  s = ucp_worker_create(w->context_, &wparams, &w->worker_);
  if (s != UCS_OK) {
    RRTO_ERROR(kLogComponent, "cannot create UCX worker: {}", ucs_status_string(s));
    return Status::InternalError;
  }

  ucp_worker_attr_t attr{};
  attr.field_mask = UCP_WORKER_ATTR_FIELD_MAX_AM_HEADER;
  s = ucp_worker_query(w->worker_, &attr);
  if (s != UCS_OK) {
    RRTO_ERROR(kLogComponent, "cannot query UCX worker: {}", ucs_status_string(s));
    return Status::InternalError;
  }
  w->max_am_header_ = attr.max_am_header;

  s = ucp_worker_get_efd(w->worker_, &w->efd_);
  if (s != UCS_OK) {
    RRTO_ERROR(kLogComponent, "cannot get UCX worker event fd: {}", ucs_status_string(s));
    return Status::InternalError;
  }
  RRTO_DEBUG(kLogComponent, "UCX {} worker ready, max AM header {} bytes", ucp_get_version_string(),
             w->max_am_header_);
  out = std::move(w);
  return Status::Ok;
}

UcxWorker::~UcxWorker() {
  if (worker_) ucp_worker_destroy(worker_);
  if (context_) ucp_cleanup(context_);
}

Status UcxWorker::listen(const std::string& address, uint16_t port, ucp_listener_conn_callback_t on_request,
                         void* arg, ucp_listener_h& listener, sockaddr_storage& bound) {
  sockaddr_storage resolved{};
  socklen_t length = 0;
  if (Status st = resolve(address, port, true, resolved, length); !ok(st)) return st;
  ucp_listener_params_t params{};
  params.field_mask = UCP_LISTENER_PARAM_FIELD_SOCK_ADDR | UCP_LISTENER_PARAM_FIELD_CONN_HANDLER;
  params.sockaddr.addr = reinterpret_cast<const sockaddr*>(&resolved);
  params.sockaddr.addrlen = length;
  params.conn_handler.cb = on_request;
  params.conn_handler.arg = arg;
  ucs_status_t s = ucp_listener_create(worker_, &params, &listener);
  if (s != UCS_OK) {
    RRTO_ERROR(kLogComponent, "cannot listen on {}:{}: {}", address, port, ucs_status_string(s));
    return s == UCS_ERR_BUSY ? Status::Unreachable : Status::IoError;
  }
  ucp_listener_attr_t attr{};
  attr.field_mask = UCP_LISTENER_ATTR_FIELD_SOCKADDR;
  s = ucp_listener_query(listener, &attr);
  if (s != UCS_OK) {
    RRTO_ERROR(kLogComponent, "cannot query the UCX listener: {}", ucs_status_string(s));
    return Status::InternalError;
  }
  bound = attr.sockaddr;
  return Status::Ok;
}

Status UcxWorker::set_am_handler(ucp_am_recv_callback_t cb, void* arg, uint32_t flags, unsigned id) {
  ucp_am_handler_param_t p{};
  p.field_mask = UCP_AM_HANDLER_PARAM_FIELD_ID | UCP_AM_HANDLER_PARAM_FIELD_FLAGS |
                 UCP_AM_HANDLER_PARAM_FIELD_CB | UCP_AM_HANDLER_PARAM_FIELD_ARG;
  p.id = id;
  p.flags = flags;
  p.cb = cb;
  p.arg = arg;
  ucs_status_t s = ucp_worker_set_am_recv_handler(worker_, &p);
  if (s != UCS_OK) {
    RRTO_ERROR(kLogComponent, "cannot register UCX AM handler: {}", ucs_status_string(s));
    return Status::InternalError;
  }
  return Status::Ok;
}

bool UcxWorker::progress() {
  if (ucp_worker_progress(worker_) == 0) return false;
  spinning_ = false;
  return true;
}

bool UcxWorker::idle_at(std::chrono::steady_clock::time_point now, int timeout_ms, int wake_fd, bool spin,
                        std::unique_lock<std::mutex>* held) {
  if (spin) {
    if (!spinning_) {
      spinning_ = true;
      spin_start_ = now;
      return false;
    }
    if (now - spin_start_ < kSpinTime) return false;
  }
  spinning_ = false;

  // Arm only says BUSY when events are already pending: progress again.
  ucs_status_t s = ucp_worker_arm(worker_);
  if (s == UCS_ERR_BUSY) return true;
  pollfd fds[2] = {{efd_, POLLIN, 0}, {wake_fd, POLLIN, 0}};
  if (held) held->unlock();
  ::poll(fds, wake_fd >= 0 ? 2 : 1, s == UCS_OK ? timeout_ms : 1);
  if (held) held->lock();
  if (fds[1].revents & POLLIN) {
    uint64_t count = 0;
    ssize_t n = ::read(wake_fd, &count, sizeof(count));  // non-blocking: clears the wake-up
    (void)n;
  }
  return true;
}

ucp_request_param_t send_param(Completion& c) {
  ucp_request_param_t p{};
  p.op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK | UCP_OP_ATTR_FIELD_USER_DATA;
  p.cb.send = on_send_done;
  p.user_data = &c;
  return p;
}

ucp_request_param_t recv_param(Completion& c) {
  ucp_request_param_t p{};
  p.op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK | UCP_OP_ATTR_FIELD_USER_DATA;
  p.cb.recv_am = on_recv_done;
  p.user_data = &c;
  return p;
}

void* track(ucs_status_ptr_t result, Completion& c) {
  if (result == nullptr) {
    c.done = true;
    c.status = UCS_OK;
    return nullptr;
  }
  if (UCS_PTR_IS_ERR(result)) {
    c.done = true;
    c.status = UCS_PTR_STATUS(result);
    return nullptr;
  }
  return result;
}

std::string ep_transports(ucp_ep_h ep) {
  char* text = nullptr;
  size_t size = 0;
  FILE* f = open_memstream(&text, &size);
  if (!f) return {};
  ucp_ep_print_info(ep, f);
  std::fclose(f);
  std::string info(text, size);
  std::free(text);
  return transports_from_ep_info(info);
}

Status resolve(const std::string& host, uint16_t port, bool passive, sockaddr_storage& out,
               socklen_t& out_len) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = passive ? AI_PASSIVE : 0;
  addrinfo* list = nullptr;
  const std::string service = std::to_string(port);
  int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &list);
  if (rc != 0 || !list) {
    RRTO_ERROR(kLogComponent, "cannot resolve {}:{}: {}", host, port, gai_strerror(rc));
    return Status::InvalidArgument;
  }
  std::memset(&out, 0, sizeof(out));
  std::memcpy(&out, list->ai_addr, list->ai_addrlen);
  out_len = list->ai_addrlen;
  freeaddrinfo(list);
  return Status::Ok;
}

std::string format_address(const sockaddr_storage& address) {
  char ip[INET6_ADDRSTRLEN] = "?";
  if (address.ss_family == AF_INET) {
    auto* a = reinterpret_cast<const sockaddr_in*>(&address);
    inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
    return std::string(ip) + ":" + std::to_string(ntohs(a->sin_port));
  }
  if (address.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<const sockaddr_in6*>(&address);
    inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
    return "[" + std::string(ip) + "]:" + std::to_string(ntohs(a->sin6_port));
  }
  return "?";
}

uint16_t address_port(const sockaddr_storage& address) {
  if (address.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&address)->sin_port);
  if (address.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&address)->sin6_port);
  return 0;
}

}  // namespace rrto::transport

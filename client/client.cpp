#include "client/client.h"

#include <dlfcn.h>
#include <ucp/api/ucp.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "client/server_choice.h"
#include "common/log.h"
#include "config/config.h"

namespace rrto::client {

Client& client() {
  // Never destroyed: cudart and the program may call us from their own
  // exit handlers, after static destructors would have run.
  static Client* instance = new Client;
  return *instance;
}

std::vector<uint64_t>& context_stack() {
  thread_local std::vector<uint64_t> stack;
  return stack;
}

uint64_t stream_id(CUstream stream, bool per_thread) {
  const auto h = reinterpret_cast<uint64_t>(stream);
  if (h == reinterpret_cast<uint64_t>(CU_STREAM_PER_THREAD) || (h == 0 && per_thread)) {
    static std::atomic<uint64_t> next_thread{1};
    thread_local const uint64_t id = proto::kPerThreadStreamBit | next_thread.fetch_add(1);
    return id;
  }
  if (h == reinterpret_cast<uint64_t>(CU_STREAM_LEGACY)) return 0;
  return h;
}

std::map<CUdeviceptr, size_t>::const_iterator ClientState::find_allocation(CUdeviceptr p, size_t size) const {
  auto it = device_allocations.upper_bound(p);
  if (it == device_allocations.begin()) return device_allocations.end();
  --it;
  const CUdeviceptr end = it->first + it->second;
  if (p >= end || size > end - p) return device_allocations.end();
  return it;
}

bool ClientState::in_mapped_run(CUdeviceptr p, size_t size) const {
  if (p + size < p) return false;
  const CUdeviceptr end = p + size;
  for (CUdeviceptr at = p; at < end;) {
    CUmemGenericAllocationHandle handle = 0;
    const PhysicalChunk* chunk = vmm.mapped_chunk(at, &handle);
    if (!chunk) return false;
    at = chunk->mapped_at + chunk->size;
  }
  return true;
}

namespace {

std::string program_name() {
  char buf[256] = {};
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  const char* name = n > 0 ? std::strrchr(buf, '/') : nullptr;
  return fmt::format("{}[{}]", name ? name + 1 : "?", getpid());
}

bool ucx_has_cuda_support() {
  std::string dir;
  if (const char* d = std::getenv("UCX_MODULE_DIR"); d && *d) {
    dir = d;
  } else {
    Dl_info info{};
    if (!dladdr(reinterpret_cast<void*>(&ucp_get_version), &info) || !info.dli_fname) return true;
    dir = std::filesystem::path(info.dli_fname).parent_path() / "ucx";
  }
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec))
    if (entry.path().filename().string().starts_with("libucm_cuda")) return true;
  return false;
}

void print_stats_at_exit() {
  auto s = client().lock();
  std::string extra = s->remote.compression().stats_json() + "," + s->graphs.stats_json();
  if (s->remote.mode() == Mode::Replay) extra += "," + s->replayer.stats_json();
  print_stats(mode_name(s->remote.mode()), s->remote.transport_name().c_str(), extra);
}

void close_trace_at_exit() { client().lock()->recorder.close_trace(); }

// The mode, the stats line and the trace, as the configuration says.
CUresult set_up(ClientState& s, const config::ClientConfig& cfg) {
  Mode mode = Mode::Replay;
  if (!parse_mode(cfg.mode, mode)) {
    RRTO_ERROR("client", "unknown mode '{}'", cfg.mode);
    return CUDA_ERROR_INVALID_VALUE;
  }
  s.remote.set_mode(mode);
  if (mode == Mode::Replay) {
    s.replayer.enable();
    s.replayer.set_speculation(cfg.speculation == "off"      ? Replayer::SpeculationMode::Off
                               : cfg.speculation == "always" ? Replayer::SpeculationMode::Always
                                                             : Replayer::SpeculationMode::Auto);
    s.remote.set_rewriter(&s.replayer);
  } else if (cfg.stats) {
    s.replayer.observe();  // the steady-state figures need the iterations
  }
  if (cfg.stats) steady_state().enable();
  if (cfg.stats) std::atexit(print_stats_at_exit);
  if (!cfg.trace_path.empty() && s.recorder.open_trace(cfg.trace_path)) std::atexit(close_trace_at_exit);
  return CUDA_SUCCESS;
}

CUresult server_options(const config::ClientConfig& cfg, std::vector<transport::ConnectOptions>& servers) {
  // This process is the CUDA driver: UCX must not hook CUDA memory calls.
  // Only a UCX with CUDA support reads the variable; any other warns, on the
  // program's stdout, that it is unused.
  if (ucx_has_cuda_support()) setenv("UCX_MEM_CUDA_HOOK_MODE", "none", 0);

  transport::LinkProfile link;
  if (std::string why; !ok(transport::parse_link(cfg.link, link, why))) {
    RRTO_ERROR("client", "link emulation '{}': {}", cfg.link, why);
    return CUDA_ERROR_INVALID_VALUE;
  }
  set_stats_link(link.describe());
  for (const auto& server : cfg.servers) {
    servers.push_back({.host = server.host,
                       .port = server.port,
                       .reply_timeout_ms = static_cast<int>(cfg.timeout_s * 1000),
                       .link = link});
  }
  return CUDA_SUCCESS;
}

// The configured upload speed, else the emulated link's.
void configure_compression(UploadCompression& compression, const config::ClientConfig& cfg,
                           const transport::LinkProfile& link) {
  const auto mode = cfg.compression == "off"      ? UploadCompression::Mode::Off
                    : cfg.compression == "always" ? UploadCompression::Mode::Always
                                                  : UploadCompression::Mode::Auto;
  compression.configure(mode, cfg.uplink_mbit ? cfg.uplink_mbit * 1'000'000 : link.up_bits_per_second);
}

}  // namespace

CUresult Client::init() {
  std::call_once(init_once_, [this] {
    init_result_ = connect_and_hello();
    initialized_.store(init_result_ == CUDA_SUCCESS, std::memory_order_release);
  });
  return init_result_;
}

CUresult Client::connect_and_hello() {
  config::ClientConfig cfg;
  config::ConfigError err;
  const char* file = std::getenv("RRTO_CONFIG");
  if ((file && *file && !config::load_client_config(file, cfg, err)) || !config::apply_client_env(cfg, err)) {
    RRTO_ERROR("client", "{}", err.text());
    return CUDA_ERROR_INVALID_VALUE;
  }
  auto s = lock();
  if (const CUresult r = set_up(*s, cfg); r != CUDA_SUCCESS) return r;
  std::vector<transport::ConnectOptions> servers;
  if (const CUresult r = server_options(cfg, servers); r != CUDA_SUCCESS) return r;
  configure_compression(s->remote.compression(), cfg, servers.front().link);
  proto::HelloResult result;
  const std::string name = program_name();
  if (const CUresult r = open_session(s->remote, servers, cfg.servers_given, cfg.auth_key, name, result); r != CUDA_SUCCESS) return r;
  describe_device(result);
  s->vmm.window = result.window;
  if (cfg.failover) {
    s->failover.configure(servers, cfg.auth_key, name, cfg.failover_max_log_mb << 20);
    s->failover.opened(result);
    s->failover.watch(s->remote);
    s->remote.set_keeper(&s->failover);
  }
  return CUDA_SUCCESS;
}

void Client::describe_device(const proto::HelloResult& result) {
  DeviceInfo& device = device_;
  device.name = result.device_name;
  std::memcpy(device.uuid.bytes, result.device_uuid.data(), std::min<size_t>(16, result.device_uuid.size()));
  device.total_memory = result.total_memory;
  device.pci_domain = result.pci_domain;
  device.pci_bus = result.pci_bus;
  device.pci_device = result.pci_device;
  device.driver_version = result.driver_version;
  device.attributes.assign(CU_DEVICE_ATTRIBUTE_MAX, 0);
  std::memcpy(device.attributes.data(), result.attributes.data(),
              std::min(result.attributes.size(), device.attributes.size() * sizeof(int32_t)));
  // Reserved ranges are carved from the session's address window; memory is
  // never exported (client/api/virtual_memory.cpp).
  device.attributes[CU_DEVICE_ATTRIBUTE_VIRTUAL_MEMORY_MANAGEMENT_SUPPORTED] = result.window != 0;
  for (const auto a : {CU_DEVICE_ATTRIBUTE_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR_SUPPORTED,
                       CU_DEVICE_ATTRIBUTE_HANDLE_TYPE_WIN32_HANDLE_SUPPORTED,
                       CU_DEVICE_ATTRIBUTE_HANDLE_TYPE_WIN32_KMT_HANDLE_SUPPORTED,
                       CU_DEVICE_ATTRIBUTE_HANDLE_TYPE_FABRIC_SUPPORTED})
    device.attributes[a] = 0;
  // Stream memory operations, 64-bit ones and NOR waits included, without
  // flushes of remote writes (client/api/stream_memory_ops.cpp).
  for (const auto a : {CU_DEVICE_ATTRIBUTE_CAN_USE_STREAM_MEM_OPS_V1, CU_DEVICE_ATTRIBUTE_CAN_USE_64_BIT_STREAM_MEM_OPS_V1,
                       CU_DEVICE_ATTRIBUTE_CAN_USE_STREAM_WAIT_VALUE_NOR_V1, CU_DEVICE_ATTRIBUTE_CAN_USE_64_BIT_STREAM_MEM_OPS,
                       CU_DEVICE_ATTRIBUTE_CAN_USE_STREAM_WAIT_VALUE_NOR})
    device.attributes[a] = 1;
  device.attributes[CU_DEVICE_ATTRIBUTE_CAN_FLUSH_REMOTE_WRITES] = 0;
}

}  // namespace rrto::client

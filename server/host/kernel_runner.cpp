// rrto-kernel-runner: one session's kernel process on the host backend. The
// server starts it (kernel_process.cpp) with the session's memory on
// descriptor 3 and a socket on 4; it maps the memory at the server's address,
// loads the host-kernel libraries itself and runs the launches the server
// sends (kernel_channel.h). Whatever a kernel does, it does here: a fault or
// a runaway kernel ends this process, not the server.
//
//   rrto-kernel-runner PARENT_PID MEMORY_BASE MEMORY_SIZE LIBRARY...
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "common/log.h"
#include "server/host/kernel_channel.h"
#include "server/host/session_memory.h"
#include "server/hostkernel/loader.h"

namespace rrto::server::host {
namespace {

namespace kc = kernel_channel;
constexpr const char* kLog = "kernel-runner";

bool read_all(void* data, size_t size) {
  auto* p = static_cast<uint8_t*>(data);
  while (size > 0) {
    const ssize_t n = read(kc::kSocketFd, p, size);
    if (n <= 0) return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

bool write_all(const void* data, size_t size) {
  const auto* p = static_cast<const uint8_t*>(data);
  while (size > 0) {
    const ssize_t n = send(kc::kSocketFd, p, size, MSG_NOSIGNAL);
    if (n <= 0) return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

struct Binding {
  const HostGlobal* global = nullptr;
  void* copy = nullptr;
};

class Runner {
 public:
  Runner(const HostKernelRegistry& kernels, uint64_t base, uint64_t size)
      : kernels_(kernels), base_(base), size_(size) {}

  // Serves runs until the server closes the socket.
  int serve() {
    kc::RunHeader header;
    std::vector<uint8_t> body;
    while (read_all(&header, sizeof header)) {
      if (header.magic != kc::kRunMagic || header.body_bytes > kc::kMaxBodyBytes) return 3;
      body.resize(header.body_bytes);
      if (!read_all(body.data(), body.size())) return 3;
      kc::RunResult result;
      std::string message;
      run(header, body, result, message);
      message.resize(std::min<size_t>(message.size(), kc::kMaxMessageBytes));
      result.message_bytes = static_cast<uint32_t>(message.size());
      if (!write_all(&result, sizeof result) || !write_all(message.data(), message.size())) return 3;
    }
    return 0;
  }

 private:
  bool inside(uint64_t p, uint64_t n) const { return p >= base_ && p <= base_ + size_ && n <= base_ + size_ - p; }

  void run(const kc::RunHeader& header, const std::vector<uint8_t>& body, kc::RunResult& result,
           std::string& message) {
    result.status = static_cast<int32_t>(Status::InvalidArgument);
    size_t at = 0;
    for (uint32_t i = 0; i < header.bindings; ++i, at += sizeof(kc::GlobalBinding)) {
      kc::GlobalBinding b;
      if (at + sizeof b > body.size()) {
        message = "truncated run";
        return;
      }
      std::memcpy(&b, body.data() + at, sizeof b);
      const HostGlobal* global = kernels_.global_at({b.library, b.index});
      if (!global || !inside(b.copy, global->size)) {
        message = "bad global binding";
        return;
      }
      bindings_.push_back({global, reinterpret_cast<void*>(b.copy)});
    }
    for (const Binding& b : bindings_) std::memcpy(b.global->address, b.copy, b.global->size);
    result.status = static_cast<int32_t>(launch_all(header.launches, body, at, result.launches_done, message));
    for (const Binding& b : bindings_) std::memcpy(b.copy, b.global->address, b.global->size);
  }

  Status launch_all(uint32_t launches, const std::vector<uint8_t>& body, size_t at, uint32_t& done,
                    std::string& message) {
    KernelProgress& progress = *reinterpret_cast<KernelProgress*>(base_);
    auto malformed = [&](const char* why) {
      message = why;
      return Status::InvalidArgument;
    };
    for (done = 0; done < launches; progress.launches_done.store(++done, std::memory_order_relaxed)) {
      kc::LaunchRecord r;
      if (at + sizeof r > body.size()) return malformed("truncated run");
      std::memcpy(&r, body.data() + at, sizeof r);
      at += sizeof r;
      if (kc::padded(r.param_bytes) > body.size() - at) return malformed("truncated run");
      const HostKernel* kernel = kernels_.kernel_at({r.library, r.kernel});
      if (!kernel) return malformed("unknown kernel");
      const HostDim3 grid{r.grid[0], r.grid[1], r.grid[2]}, block{r.block[0], r.block[1], r.block[2]};
      if (Status s = kernel->launch(grid, block, body.data() + at, r.param_bytes, &message); !ok(s)) return s;
      at += kc::padded(r.param_bytes);
    }
    return Status::Ok;
  }

  const HostKernelRegistry& kernels_;
  const uint64_t base_, size_;
  std::vector<Binding> bindings_;
};

int run_kernel_process(int argc, char** argv) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (argc < 4 || getppid() != static_cast<pid_t>(std::strtol(argv[1], nullptr, 10))) return 2;
  const uint64_t base = std::strtoull(argv[2], nullptr, 16);
  const uint64_t size = std::strtoull(argv[3], nullptr, 10);
  void* p = mmap(reinterpret_cast<void*>(base), size, PROT_READ | PROT_WRITE,
                 MAP_SHARED | MAP_FIXED_NOREPLACE | MAP_NORESERVE, kc::kMemoryFd, 0);
  if (p != reinterpret_cast<void*>(base)) {
    RRTO_ERROR(kLog, "cannot map the session's memory at {:#x}: {}", base, std::strerror(errno));
    return 4;
  }
  close(kc::kMemoryFd);
  // The server has said what loading the libraries says.
  if (log::level() > log::Level::Warn) log::set_level(log::Level::Warn);
  HostKernelRegistry kernels;
  for (int i = 4; i < argc; ++i) {
    std::string error;
    if (!ok(kernels.add(argv[i], error))) {
      RRTO_ERROR(kLog, "{}", error);
      return 5;
    }
  }
  return Runner(kernels, base, size).serve();
}

}  // namespace
}  // namespace rrto::server::host

int main(int argc, char** argv) { return rrto::server::host::run_kernel_process(argc, argv); }

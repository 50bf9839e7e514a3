#include "server/host/kernel_process.h"

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

extern char** environ;

namespace rrto::server::host {
namespace {

namespace kc = kernel_channel;
using Clock = std::chrono::steady_clock;
constexpr const char* kRunnerName = "rrto-kernel-runner";
// How often a long run's progress is looked at.
constexpr auto kProgressCheck = std::chrono::milliseconds(50);

bool send_all(int fd, const uint8_t* p, size_t size) {
  while (size > 0) {
    const ssize_t n = send(fd, p, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

bool receive_all(int fd, void* data, size_t size) {
  auto* p = static_cast<uint8_t*>(data);
  while (size > 0) {
    const ssize_t n = recv(fd, p, size, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

std::string default_kernel_runner() {
  std::error_code ignored;
  const auto beside = std::filesystem::read_symlink("/proc/self/exe", ignored).parent_path() / kRunnerName;
  if (std::filesystem::exists(beside, ignored)) return beside.string();
#ifdef RRTO_KERNEL_RUNNER_BUILD_PATH
  return RRTO_KERNEL_RUNNER_BUILD_PATH;
#else
  return beside.string();
#endif
}

Status KernelProcess::start(const std::string& runner, const std::vector<std::string>& libraries,
                            const SessionMemory& memory, std::unique_ptr<KernelProcess>& out, std::string& error) {
  int sockets[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets) != 0) {
    error = fmt::format("socketpair: {}", std::strerror(errno));
    return Status::IoError;
  }
  std::vector<std::string> args = {runner, std::to_string(getpid()), fmt::format("{:x}", memory.base()),
                                   std::to_string(memory.size())};
  args.insert(args.end(), libraries.begin(), libraries.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  // Only the memory and the socket go with it: every other descriptor closes.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, memory.fd(), kc::kMemoryFd);
  posix_spawn_file_actions_adddup2(&actions, sockets[1], kc::kSocketFd);
  posix_spawn_file_actions_addclosefrom_np(&actions, kc::kSocketFd + 1);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, runner.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(sockets[1]);
  if (rc != 0) {
    close(sockets[0]);
    error = fmt::format("cannot start {}: {}", runner, std::strerror(rc));
    return Status::IoError;
  }
  out.reset(new KernelProcess(pid, sockets[0]));
  return Status::Ok;
}

KernelProcess::~KernelProcess() {
  close(socket_);
  ::kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
}

KernelProcess::Outcome KernelProcess::run(std::span<const uint8_t> run, uint32_t launches,
                                          std::chrono::nanoseconds limit, const SessionMemory& memory,
                                          const std::atomic<bool>& abandon, kc::RunResult& result,
                                          std::string& message) {
  memory.progress().launches_done.store(0, std::memory_order_relaxed);
  if (!send_all(socket_, run.data(), run.size())) return Outcome::Died;
  if (const Outcome waited = wait_readable(launches, limit, memory, abandon); waited != Outcome::Done) {
    ::kill(pid_, SIGKILL);
    return waited;
  }
  if (!receive_all(socket_, &result, sizeof result) || result.message_bytes > kc::kMaxMessageBytes)
    return Outcome::Died;
  message.resize(result.message_bytes);
  if (!receive_all(socket_, message.data(), message.size())) return Outcome::Died;
  return Outcome::Done;
}

// Waits for the result (Done) while every launch finishes within `limit` of
// the one before. The process reports how many are done, so what it says is
// believed only as far as the run's length.
KernelProcess::Outcome KernelProcess::wait_readable(uint32_t launches, std::chrono::nanoseconds limit,
                                                    const SessionMemory& memory, const std::atomic<bool>& abandon) {
  uint32_t done = 0;
  auto deadline = Clock::now() + limit;
  for (;;) {
    if (abandon.load(std::memory_order_relaxed)) return Outcome::Abandoned;
    const auto now = Clock::now();
    const uint32_t reported = memory.progress().launches_done.load(std::memory_order_relaxed);
    if (reported > done && reported <= launches) {
      done = reported;
      deadline = now + limit;
    }
    if (now >= deadline) return Outcome::TimedOut;
    const auto wait = std::min<std::chrono::nanoseconds>(deadline - now, kProgressCheck);
    pollfd p{.fd = socket_, .events = POLLIN, .revents = 0};
    const int timeout_ms = static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(wait).count());
    const int n = poll(&p, 1, timeout_ms);
    if (n > 0) return Outcome::Done;  // the result, or the end of the process
    if (n < 0 && errno != EINTR) return Outcome::Done;
  }
}

}  // namespace rrto::server::host

// A session's kernel process on the host backend: rrto-kernel-runner
// (kernel_runner.cpp), started with the session's memory and nothing else of
// the server, runs the session's kernels. The server hands it a run of
// launches at once and waits for the result, at most a time limit per launch.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "server/host/kernel_channel.h"
#include "server/host/session_memory.h"

namespace rrto::server::host {

// rrto-kernel-runner next to the running program, else the one of the build
// tree this was built in.
std::string default_kernel_runner();

class KernelProcess {
 public:
  // Starts the runner over `memory` with `libraries` (the registry's paths,
  // in its order). The process dies with the thread that starts it
  // (PR_SET_PDEATHSIG), so start it from a thread that lives as long as the
  // session.
  static Status start(const std::string& runner, const std::vector<std::string>& libraries,
                      const SessionMemory& memory, std::unique_ptr<KernelProcess>& out, std::string& error);
  ~KernelProcess();  // kills and reaps it
  KernelProcess(const KernelProcess&) = delete;
  KernelProcess& operator=(const KernelProcess&) = delete;

  pid_t pid() const { return pid_; }

  enum class Outcome {
    Done,      // `result` says how far the run got
    Died,      // the process ended (a kernel faulted, or it was killed)
    TimedOut,  // a launch ran past the limit; the process has been killed
    Abandoned, // `abandon` was set while it ran; the process has been killed
  };
  // Sends `run` (a RunHeader and its body) and waits for its RunResult and
  // message. A launch may take `limit`; progress is read from `memory`.
  // Setting `abandon` (from anywhere, a signal handler too) ends the wait.
  Outcome run(std::span<const uint8_t> run, uint32_t launches, std::chrono::nanoseconds limit,
              const SessionMemory& memory, const std::atomic<bool>& abandon, kernel_channel::RunResult& result,
              std::string& message);

 private:
  KernelProcess(pid_t pid, int socket) : pid_(pid), socket_(socket) {}
  Outcome wait_readable(uint32_t launches, std::chrono::nanoseconds limit, const SessionMemory& memory,
                        const std::atomic<bool>& abandon);
  pid_t pid_;
  int socket_;
};

}  // namespace rrto::server::host

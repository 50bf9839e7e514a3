// Running transport_test_server as a child process from a test.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "transport/transport.h"

namespace rrto::transport::test {

// Sets (or unsets, with nullopt) an environment variable for the life of the
// object. Spawned servers and UCX contexts created meanwhile see it.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, std::optional<std::string> value);
  ~ScopedEnv();
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_;
  std::optional<std::string> old_;
};

// A transport_test_server child. Whatever happens in the test, the
// destructor kills and reaps it (and it dies with the test process anyway).
class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Spawns a server and waits for it to report its port.
  bool start_server(std::chrono::milliseconds timeout = std::chrono::seconds(15));
  // Spawns a client that echoes `bulk_bytes` to `port` over and over, and
  // waits until its first call is under way.
  bool start_client(uint16_t port, size_t bulk_bytes,
                    std::chrono::milliseconds timeout = std::chrono::seconds(15));
  // SIGKILL, without waiting.
  void kill9();
  // SIGSTOP, and waits until it has stopped: a thread of it may run on for a
  // moment after kill() returns.
  void stop();
  // SIGTERM, then waits for exit; returns its exit status, minus the signal
  // if it died of one, or -1 if it had to be killed.
  int terminate(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Everything it printed on stdout (complete once it has exited).
  const std::string& output() const { return output_; }

  pid_t pid() const { return pid_; }
  uint16_t port() const { return port_; }
  ConnectOptions connect_options() const;

 private:
  // Spawns with `args` after the parent pid and waits for a "<token> <n>" line.
  bool spawn(const std::vector<std::string>& args, const char* token, unsigned& value,
             std::chrono::milliseconds timeout);
  void reap();
  void read_output();
  pid_t pid_ = -1;
  int output_fd_ = -1;
  std::string output_;
  uint16_t port_ = 0;
};

double seconds_since(std::chrono::steady_clock::time_point start);

}  // namespace rrto::transport::test

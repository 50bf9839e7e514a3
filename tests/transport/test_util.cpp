#include "tests/transport/test_util.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <thread>

extern char** environ;

namespace rrto::transport::test {

ScopedEnv::ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
  if (const char* old = std::getenv(name)) old_ = old;
  if (value) {
    setenv(name, value->c_str(), 1);
  } else {
    unsetenv(name);
  }
}

ScopedEnv::~ScopedEnv() {
  if (old_) {
    setenv(name_.c_str(), old_->c_str(), 1);
  } else {
    unsetenv(name_.c_str());
  }
}

ChildProcess::~ChildProcess() {
  kill9();
  reap();
}

bool ChildProcess::start_server(std::chrono::milliseconds timeout) {
  unsigned port = 0;
  if (!spawn({}, "PORT", port, timeout) || port == 0 || port > 65535) {
    kill9();
    reap();
    return false;
  }
  port_ = static_cast<uint16_t>(port);
  return true;
}

bool ChildProcess::start_client(uint16_t port, size_t bulk_bytes, std::chrono::milliseconds timeout) {
  unsigned calls = 0;
  if (!spawn({"client", std::to_string(port), std::to_string(bulk_bytes)}, "CALLING", calls, timeout)) {
    kill9();
    reap();
    return false;
  }
  return true;
}

bool ChildProcess::spawn(const std::vector<std::string>& args, const char* token, unsigned& value,
                         std::chrono::milliseconds timeout) {
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return false;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  std::vector<std::string> strings = {TRANSPORT_TEST_SERVER, std::to_string(getpid())};
  strings.insert(strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : strings) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int rc = posix_spawn(&pid_, TRANSPORT_TEST_SERVER, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  if (rc != 0) {
    pid_ = -1;
    close(out[0]);
    return false;
  }

  // Wait for "<token> <value>"; UCX may print warnings on stdout too.
  const std::string wanted = std::string(token) + " ";
  std::string text;
  bool found = false;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const size_t at = text.find(wanted);
    if (at != std::string::npos && text.find('\n', at) != std::string::npos) {
      found = std::sscanf(text.c_str() + at + wanted.size(), "%u", &value) == 1;
      break;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{out[0], POLLIN, 0};
    if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    char buf[256];
    const ssize_t n = read(out[0], buf, sizeof(buf));
    if (n <= 0) break;
    text.append(buf, n);
  }
  output_fd_ = out[0];
  output_ = text;
  return found;
}

void ChildProcess::kill9() {
  if (pid_ > 0) ::kill(pid_, SIGKILL);
}

void ChildProcess::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGSTOP);
  int status = 0;
  waitpid(pid_, &status, WUNTRACED);  // returns once every thread has stopped
}

void ChildProcess::reap() {
  if (pid_ > 0) {
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  read_output();
}

void ChildProcess::read_output() {
  if (output_fd_ < 0) return;
  char buf[4096];
  ssize_t n;
  while ((n = read(output_fd_, buf, sizeof(buf))) > 0) output_.append(buf, n);
  close(output_fd_);
  output_fd_ = -1;
}

int ChildProcess::terminate(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  for (;;) {
    const pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) break;
    if (std::chrono::steady_clock::now() > deadline) {
      kill9();
      reap();
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid_ = -1;
  read_output();
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

ConnectOptions ChildProcess::connect_options() const {
  ConnectOptions o;
  o.host = "127.0.0.1";
  o.port = port_;
  o.connect_timeout_ms = 5000;
  return o;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace rrto::transport::test

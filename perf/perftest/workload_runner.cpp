#include "perf/perftest/workload_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

extern char** environ;

namespace rrto::perf {
namespace {

// rrto-perf-workload's exit status when cuInit refused (workload_main.cpp).
constexpr int kExitRefused = 4;
constexpr size_t kKeptOutputLines = 40;
// The child's end of the start pipe (--start-fd); its report pipe is fd 3.
constexpr int kStartFd = 4;

std::vector<std::string> child_environment(const WorkloadRun& run) {
  std::vector<std::string> env;
  std::string library_path = run.library_dir;
  for (char** e = environ; *e; ++e) {
    const std::string_view entry(*e);
    const std::string_view name = entry.substr(0, entry.find('='));
    if (name == "LD_LIBRARY_PATH") {
      if (entry.size() > name.size() + 1) library_path += ":" + std::string(entry.substr(name.size() + 1));
      continue;
    }
    if (name == "RRTO_MODE" || name == "RRTO_SERVER" || name == "RRTO_LINK" || name == "RRTO_STATS") continue;
    env.emplace_back(entry);
  }
  env.push_back("LD_LIBRARY_PATH=" + library_path);
  env.push_back("RRTO_MODE=" + run.mode);
  env.push_back("RRTO_SERVER=" + run.server);
  env.push_back("RRTO_LINK=" + (run.link.empty() ? std::string("off") : run.link));
  env.push_back("RRTO_STATS=1");
  if (!std::getenv("RRTO_LOG")) env.push_back("RRTO_LOG=error");
  return env;
}

std::vector<std::string> child_arguments(const WorkloadRun& run) {
  std::vector<std::string> args = {run.program, run.workload, "--iterations", std::to_string(run.iterations),
                                   "--warmup", std::to_string(run.warmup), "--min-iterations",
                                   std::to_string(run.min_iterations), "--report-fd", "3"};
  if (run.size) args.insert(args.end(), {"--size", std::to_string(run.size)});
  if (run.max_seconds > 0) args.insert(args.end(), {"--max-seconds", fmt::format("{}", run.max_seconds)});
  if (run.events) args.push_back("--events");
  if (run.changing_scalar) args.push_back("--changing-scalar");
  if (run.kernel_us) args.insert(args.end(), {"--kernel-us", std::to_string(*run.kernel_us)});
  if (run.gated) args.insert(args.end(), {"--start-fd", std::to_string(kStartFd)});
  return args;
}

// Puts `fd` at `target` in a child about to exec, without close-on-exec.
void place(int fd, int target) {
  if (fd == target) {
    fcntl(fd, F_SETFD, 0);
  } else {
    dup2(fd, target);
  }
}

// The message of a log line "[12:00:00.000 rrto 123 client error] message".
bool log_error_message(const std::string& line, std::string& message) {
  if (line.empty() || line[0] != '[') return false;
  const size_t end = line.find("] ");
  if (end == std::string::npos || line.rfind(" error", end) == std::string::npos) return false;
  message = line.substr(end + 2);
  return true;
}

bool parse_counts(const std::string& line, ClientCounts& out) {
  if (line.rfind("{\"rrto_stats\"", 0) != 0) return false;
  const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return false;
  out.present = true;
  out.transport = j.value("transport", "");
  out.link = j.value("link", "");
  out.round_trips = j.value("round_trips", uint64_t{0});
  out.remote_calls = j.value("remote_calls", uint64_t{0});
  out.bytes_up = j.value("bytes_up", uint64_t{0});
  out.bytes_down = j.value("bytes_down", uint64_t{0});
  return true;
}

// Splits what arrives on one pipe into lines.
struct LineReader {
  int fd = -1;
  std::string pending{};
  bool open() const { return fd >= 0; }
  // Reads what is there; calls on_line per complete line. False at EOF.
  template <typename F>
  bool read(F&& on_line) {
    char buffer[4096];
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
    if (n <= 0) {
      if (!pending.empty()) on_line(pending);
      pending.clear();
      ::close(fd);
      fd = -1;
      return false;
    }
    pending.append(buffer, static_cast<size_t>(n));
    size_t at = 0;
    for (size_t nl; (nl = pending.find('\n', at)) != std::string::npos; at = nl + 1)
      on_line(pending.substr(at, nl - at));
    pending.erase(0, at);
    return true;
  }
};

// A started rrto-perf-workload, the read ends of its report pipe (its fd 3)
// and of its stdout and stderr, and with `gated` the write end of its start
// pipe.
struct Child {
  pid_t pid = -1;
  int report_fd = -1, output_fd = -1, start_fd = -1;
  // Lets a gated child begin its measured iterations (end of file on its
  // start pipe).
  void release() {
    if (start_fd >= 0) ::close(start_fd);
    start_fd = -1;
  }
};

bool open_pipe(int fds[2], std::string& reason) {
  if (pipe2(fds, O_CLOEXEC) == 0) return true;
  reason = fmt::format("pipe: {}", std::strerror(errno));
  return false;
}

void close_pipe(int fds[2]) {
  for (int i = 0; i < 2; ++i)
    if (fds[i] >= 0) ::close(fds[i]);
}

// Forks and execs the workload; false with `reason` set when it cannot.
bool start_child(const WorkloadRun& run, Child& child, std::string& reason) {
  const std::vector<std::string> args = child_arguments(run);
  const std::vector<std::string> env = child_environment(run);
  std::vector<char*> argv, envp;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  argv.push_back(nullptr);
  envp.push_back(nullptr);

  int report[2] = {-1, -1}, output[2] = {-1, -1}, start[2] = {-1, -1};
  if (!open_pipe(report, reason) || !open_pipe(output, reason) || (run.gated && !open_pipe(start, reason))) {
    close_pipe(report);
    close_pipe(output);
    return false;
  }
  const pid_t pid = fork();
  if (pid == 0) {
    // Only async-signal-safe calls until exec.
    const int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (devnull >= 0) place(devnull, STDIN_FILENO);
    place(output[1], STDOUT_FILENO);
    place(output[1], STDERR_FILENO);
    place(report[1], 3);
    if (start[0] >= 0) place(start[0], kStartFd);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  ::close(report[1]);
  ::close(output[1]);
  if (start[0] >= 0) ::close(start[0]);
  if (pid < 0) {
    ::close(report[0]);
    ::close(output[0]);
    if (start[1] >= 0) ::close(start[1]);
    reason = fmt::format("fork: {}", std::strerror(errno));
    return false;
  }
  child = Child{pid, report[0], output[0], start[1]};
  return true;
}

// "done iterations=N wall=NS up=B down=B checksum=X", after the word "done".
void parse_done(std::istringstream& in, WorkloadOutcome& out) {
  for (std::string item; in >> item;) {
    const size_t eq = item.find('=');
    const std::string key = item.substr(0, eq), value = eq == std::string::npos ? "" : item.substr(eq + 1);
    if (key == "iterations") out.iterations = std::strtoull(value.c_str(), nullptr, 10);
    if (key == "wall") out.wall_ns = std::strtoull(value.c_str(), nullptr, 10);
    if (key == "up") out.payload_up = std::strtoull(value.c_str(), nullptr, 10);
    if (key == "down") out.payload_down = std::strtoull(value.c_str(), nullptr, 10);
    if (key == "checksum") out.checksum = value;
  }
}

// What the workload tells: its report lines and its output.
class ChildListener {
 public:
  ChildListener(WorkloadOutcome& out, const std::function<void()>& on_ready,
                const std::function<void(uint64_t)>& on_sample)
      : out_(out), on_ready_(on_ready), on_sample_(on_sample) {}

  void report(const std::string& line) {
    std::istringstream in(line);
    std::string word;
    in >> word;
    uint64_t ns = 0;
    if (word == "ready") {
      on_ready_();
    } else if (word == "sample") {
      if (in >> ns) on_sample_(ns);
    } else if (word == "compute") {
      if (in >> ns) out_.compute_ns.push_back(ns);
    } else if (word == "done") {
      done_ = true;
      parse_done(in, out_);
    } else if (word == "error") {
      reported_error_ = line.size() > 6 ? line.substr(6) : line;
    }
  }

  void output(const std::string& line) {
    if (parse_counts(line, out_.counts)) return;
    std::string message;
    if (log_error_message(line, message)) log_errors_.push_back(message);
    tail_.push_back(line);
    if (tail_.size() > kKeptOutputLines) tail_.pop_front();
  }

  bool done() const { return done_; }
  // The last output line, "" when there was none.
  std::string last_output() const { return tail_.empty() ? std::string() : tail_.back(); }
  // The errors the client library logged, else the one the workload reported.
  std::string why() const {
    std::string why;
    for (const std::string& m : log_errors_) why += (why.empty() ? "" : "; ") + m;
    return why.empty() ? reported_error_ : why;
  }

 private:
  WorkloadOutcome& out_;
  const std::function<void()>& on_ready_;
  const std::function<void(uint64_t)>& on_sample_;
  bool done_ = false;
  std::string reported_error_;
  std::vector<std::string> log_errors_;
  std::deque<std::string> tail_;
};

// Hands the child's lines to `listener` until it closes both pipes.
void listen(const Child& child, ChildListener& listener) {
  LineReader reports{child.report_fd}, outputs{child.output_fd};
  auto on_report = [&](const std::string& line) { listener.report(line); };
  auto on_output = [&](const std::string& line) { listener.output(line); };
  while (reports.open() || outputs.open()) {
    pollfd fds[2] = {{reports.fd, POLLIN, 0}, {outputs.fd, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (reports.open() && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) reports.read(on_report);
    if (outputs.open() && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) outputs.read(on_output);
  }
  if (reports.open()) ::close(reports.fd);
  if (outputs.open()) ::close(outputs.fd);
}

// The outcome from the exit `status` and what the child said.
void judge_exit(int status, const ChildListener& listener, const std::string& program, WorkloadOutcome& out) {
  std::string why = listener.why();
  const std::string last = listener.last_output();
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && listener.done()) {
    out.result = WorkloadOutcome::Result::Ok;
  } else if (WIFEXITED(status) && WEXITSTATUS(status) == kExitRefused) {
    out.result = WorkloadOutcome::Result::NotAvailable;
    out.reason = why.empty() ? "the client library refused the mode" : why;
  } else {
    out.result = WorkloadOutcome::Result::Failed;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && why.empty())
      why = last.empty() ? "cannot run " + program : last;  // the dynamic loader's complaint
    if (WIFSIGNALED(status)) why += fmt::format("{}killed by signal {}", why.empty() ? "" : "; ", WTERMSIG(status));
    if (why.empty()) why = last;
    out.reason = why.empty() ? fmt::format("exit status {}", WEXITSTATUS(status)) : why;
  }
}

}  // namespace

WorkloadOutcome run_workload(const WorkloadRun& run, const std::function<void()>& on_ready,
                             const std::function<void(uint64_t)>& on_sample) {
  WorkloadOutcome out;
  Child child;
  if (!start_child(run, child, out.reason)) return out;
  const std::function<void()> ready = [&] {
    on_ready();
    child.release();
  };
  ChildListener listener(out, ready, on_sample);
  listen(child, listener);
  child.release();
  int status = 0;
  while (waitpid(child.pid, &status, 0) < 0 && errno == EINTR) {
  }
  judge_exit(status, listener, run.program, out);
  return out;
}

}  // namespace rrto::perf

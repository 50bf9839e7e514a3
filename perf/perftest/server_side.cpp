#include "perf/perftest/server_side.h"

#include <signal.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "perf/perftest/paths.h"
#include "perf/perftest/raw_server.h"
#include "perf/perftest/server_info.h"

extern char** environ;

namespace rrto::perf {
namespace {

constexpr auto kServerStartTimeout = std::chrono::seconds(30);
constexpr auto kServerStopTimeout = std::chrono::seconds(10);

std::atomic<bool> g_stop{false};
std::atomic<bool> g_stop_requested{false};  // by SIGINT/SIGTERM
int g_wake_fd = -1;

void wake() {
  const uint64_t one = 1;
  ssize_t n = ::write(g_wake_fd, &one, sizeof one);
  (void)n;
}

void on_stop_signal(int) {
  g_stop_requested.store(true);
  g_stop.store(true);
  wake();
}

void on_child_signal(int) {
  g_stop.store(true);
  wake();
}

void install_signal_handlers() {
  struct sigaction action {};
  sigemptyset(&action.sa_mask);
  action.sa_handler = on_stop_signal;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  action.sa_handler = on_child_signal;
  action.sa_flags = SA_NOCLDSTOP;
  sigaction(SIGCHLD, &action, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

bool write_port_file(const std::string& path, uint16_t port) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << port << '\n';
    if (!out.flush()) return false;
  }
  return std::rename(temporary.c_str(), path.c_str()) == 0;
}

std::string bracketed(const std::string& host) {
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

bool generates_config(const Options& o) { return o.devices || o.time_scale_us; }

// The rrto-server config of --devices and --time-scale-us: host backend, that
// many default devices with that time scale (--listen overrides "listen").
bool write_device_config(const Options& o, const std::string& path) {
  nlohmann::json devices = nlohmann::json::array();
  for (uint32_t i = 0; i < o.devices.value_or(1); ++i)
    devices.push_back({{"time_scale_us", o.time_scale_us.value_or(0)}});
  const nlohmann::json config = {{"description", "written by rrto-perftest for --devices / --time-scale-us"},
                                 {"listen", "127.0.0.1:0"},
                                 {"backend", "host"},
                                 {"devices", devices},
                                 {"status", {{"listen", fmt::format("{}:0", bracketed(o.listen))}}}};
  std::ofstream out(path, std::ios::trunc);
  out << config.dump(1) << '\n';
  return static_cast<bool>(out.flush());
}

// The port a starting rrto-server wrote to `path`; 0 until then.
uint16_t read_port(const std::string& path) {
  std::ifstream in(path);
  unsigned port = 0;
  return in >> port && port > 0 && port < 65536 ? static_cast<uint16_t>(port) : 0;
}

// Our environment for rrto-server, with the workloads' host-kernel libraries
// added and its log at warn unless RRTO_LOG says otherwise.
std::vector<std::string> server_environment(const Options& o) {
  std::vector<std::string> env;
  const std::string kernel_dir = host_kernel_dir();
  std::string kernels = kernel_dir + "/librrto_perf_kernels.so:" + kernel_dir + "/librrto_example_kernels.so";
  bool has_log = false;
  for (char** e = environ; *e; ++e) {
    std::string entry = *e;
    if (entry.rfind("RRTO_HOST_KERNELS=", 0) == 0) {
      kernels += ":" + entry.substr(18);
      continue;
    }
    has_log |= entry.rfind("RRTO_LOG=", 0) == 0;
    env.push_back(std::move(entry));
  }
  // Host-kernel libraries matter to the host backend only; the cuda
  // backend ignores them.
  env.push_back("RRTO_HOST_KERNELS=" + kernels);
  if (!has_log) env.push_back("RRTO_LOG=warn");
  if (o.shared_memory) env.push_back("RRTO_LOCAL_SHARED_MEMORY=1");
  return env;
}

// The rrto-server this rrto-perftest starts for the RRTO tests.
class ChildServer {
 public:
  ~ChildServer() { stop(); }

  bool start(const Options& o, std::string& error) {
    const std::string temp =
        fmt::format("{}/rrto-perftest-{}", std::filesystem::temp_directory_path().string(), getpid());
    port_file_ = temp + ".port";
    std::remove(port_file_.c_str());
    std::vector<std::string> args = {rrto_server_program(), "--listen", fmt::format("{}:0", bracketed(o.listen)),
                                     "--port-file", port_file_};
    if (generates_config(o)) {
      config_file_ = temp + ".json";
      status_port_file_ = temp + ".status-port";
      std::remove(status_port_file_.c_str());
      if (!write_device_config(o, config_file_)) {
        error = fmt::format("cannot write {}", config_file_);
        return false;
      }
      args.insert(args.end(), {"--status-port-file", status_port_file_});
    }
    const std::string& config = config_file_.empty() ? o.config : config_file_;
    if (!config.empty()) args.insert(args.end(), {"--config", config});
    if (!o.backend.empty()) args.insert(args.end(), {"--backend", o.backend});
    if (const char* key = std::getenv("RRTO_AUTH_KEY"); !key || !*key) {
      // A benchmark serves whoever runs the client side, as ucx_perftest does.
      args.push_back("--insecure");
      fmt::print("rrto-server runs without an auth key (set RRTO_AUTH_KEY on both sides to use one)\n");
    }
    if (!spawn(args, server_environment(o))) {
      error = "cannot fork rrto-server";
      return false;
    }
    return wait_until_listening(args[0], error);
  }

  uint16_t port() const { return port_; }
  // Its status endpoint's port; 0 if it has none.
  uint16_t status_port() const { return status_port_; }
  pid_t pid() const { return pid_; }

  // True once it has exited (reaped here).
  bool exited() {
    if (pid_ <= 0) return true;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) != pid_) return false;
    status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    pid_ = -1;
    return true;
  }
  int status() const { return status_; }

  void stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + kServerStopTimeout;
    while (!exited() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      int status = 0;
      waitpid(pid_, &status, 0);
      pid_ = -1;
    }
    for (const std::string* file : {&port_file_, &status_port_file_, &config_file_})
      if (!file->empty()) std::remove(file->c_str());
  }

 private:
  bool spawn(std::vector<std::string>& args, std::vector<std::string> env) {
    std::vector<char*> argv, envp;
    for (std::string& a : args) argv.push_back(a.data());
    for (std::string& e : env) envp.push_back(e.data());
    argv.push_back(nullptr);
    envp.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      execve(argv[0], argv.data(), envp.data());
      _exit(127);
    }
    return pid_ > 0;
  }

  // Until the port files say where it listens (the status port, when asked
  // for, is written after the other).
  bool wait_until_listening(const std::string& program, std::string& error) {
    const auto deadline = std::chrono::steady_clock::now() + kServerStartTimeout;
    while (std::chrono::steady_clock::now() < deadline && !g_stop.load()) {
      if (exited()) {
        error = fmt::format("{} exited while starting (status {})", program, status_);
        return false;
      }
      port_ = read_port(port_file_);
      status_port_ = status_port_file_.empty() ? 0 : read_port(status_port_file_);
      if (port_ != 0 && (status_port_file_.empty() || status_port_ != 0)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    error = g_stop.load() ? "stopped while rrto-server was starting" : "rrto-server did not start listening in time";
    return false;
  }

  pid_t pid_ = -1;
  int status_ = 0;
  uint16_t port_ = 0, status_port_ = 0;
  std::string port_file_, status_port_file_;
  std::string config_file_;  // written here for --devices / --time-scale-us
};

}  // namespace

int run_server_side(const Options& o) {
  g_wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (g_wake_fd < 0) {
    fmt::print(stderr, "rrto-perftest: cannot create an eventfd\n");
    return 1;
  }
  install_signal_handlers();

  ChildServer child;
  ServerInfo info;
  std::string rrto_address = o.server;
  if (rrto_address.empty()) {
    std::string error;
    if (!child.start(o, error)) {
      fmt::print(stderr, "rrto-perftest: {}\n", error);
      return 1;
    }
    // Clients reach it on the host they reached us on, unless we listen on
    // one address only.
    const bool any = o.listen == "0.0.0.0" || o.listen == "::" || o.listen.empty();
    rrto_address = fmt::format("{}:{}", any ? "" : o.listen, child.port());
    if (child.status_port()) info.status_address = fmt::format("{}:{}", any ? "" : o.listen, child.status_port());
    fmt::print("rrto-server (pid {}) listening on {}:{}\n", child.pid(), o.listen, child.port());
  }

  info.rrto_address = rrto_address;
  if (generates_config(o)) {
    info.devices = o.devices.value_or(1);
    info.time_scale_us = o.time_scale_us.value_or(0);
  }
  std::unique_ptr<RawServer> raw;
  if (!ok(RawServer::listen(o.listen, o.port, o.shared_memory, format_server_info(info), raw))) {
    fmt::print(stderr, "rrto-perftest: cannot listen on {}:{}\n", o.listen, o.port);
    return 1;
  }
  if (!o.port_file.empty() && !write_port_file(o.port_file, raw->port())) {
    fmt::print(stderr, "rrto-perftest: cannot write the port file {}\n", o.port_file);
    return 1;
  }
  fmt::print("Waiting for connection...\n");
  std::fflush(stdout);
  raw->run(g_stop, g_wake_fd);
  raw.reset();

  int rc = 0;
  if (o.server.empty() && !g_stop_requested.load() && child.exited()) {
    fmt::print(stderr, "rrto-perftest: rrto-server exited (status {})\n", child.status());
    rc = 1;
  }
  child.stop();
  return rc;
}

}  // namespace rrto::perf

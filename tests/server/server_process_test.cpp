// The real rrto-server binary, started with a config file and --port-file,
// talked to over the transport with protocol batches.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <cuda.h>
#include <fmt/format.h>

#include "protocol/batch.h"
#include "protocol/handshake.h"
#include "transport/transport.h"

extern char** environ;

using namespace rrto;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// A scratch folder removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "rrto-server-test-XXXXXX").string();
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void write_file(const fs::path& path, const std::string& text) { std::ofstream(path) << text; }

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// rrto-server as a child. Whatever happens in the test, the destructor kills
// and reaps it, and it dies with the test process too (PR_SET_PDEATHSIG).
class ServerProcess {
 public:
  ~ServerProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  // `extra_env`: NAME=value entries added to (or replacing) this process's environment.
  void start(const std::vector<std::string>& args, const fs::path& log,
             const std::vector<std::string>& extra_env = {}) {
    std::vector<std::string> env_strings;
    for (char** e = environ; *e; ++e) {
      const std::string entry = *e;
      bool replaced = false;
      for (const std::string& x : extra_env)
        replaced |= entry.substr(0, entry.find('=') + 1) == x.substr(0, x.find('=') + 1);
      if (!replaced) env_strings.push_back(entry);
    }
    env_strings.insert(env_strings.end(), extra_env.begin(), extra_env.end());
    std::vector<char*> envp;
    for (std::string& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(RRTO_SERVER_BINARY));
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    const pid_t parent = getpid();
    const std::string log_path = log.string();
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(127);
      const int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
      }
      execve(RRTO_SERVER_BINARY, argv.data(), envp.data());
      _exit(127);
    }
  }

  // The port from --port-file, or 0 if the server did not write it in time.
  uint16_t wait_for_port(const fs::path& port_file, std::chrono::milliseconds timeout = 15s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (exited()) return 0;
      const std::string text = read_file(port_file);
      if (!text.empty() && text.back() == '\n') return static_cast<uint16_t>(std::atoi(text.c_str()));
      std::this_thread::sleep_for(20ms);
    }
    return 0;
  }

  // Waits for the exit; its exit code, or -1 (killed by a signal or timed out).
  int wait_exit(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (exited()) return WIFEXITED(status_) ? WEXITSTATUS(status_) : -1;
      std::this_thread::sleep_for(10ms);
    }
    return -1;
  }

  void signal(int sig) { ::kill(pid_, sig); }

  // Its peak resident memory so far, and now, in bytes; 0 if unknown.
  uint64_t peak_rss() const { return memory("VmHWM:"); }
  uint64_t rss() const { return memory("VmRSS:"); }

 private:
  uint64_t memory(std::string_view field) const {
    std::ifstream status(fs::path("/proc") / std::to_string(pid_) / "status");
    for (std::string line; std::getline(status, line);)
      if (line.rfind(field, 0) == 0) return std::strtoull(line.c_str() + field.size(), nullptr, 10) << 10;
    return 0;
  }

 public:

 private:
  bool exited() {
    if (pid_ <= 0) return true;
    if (waitpid(pid_, &status_, WNOHANG) == pid_) {
      pid_ = -1;
      return true;
    }
    return false;
  }

  pid_t pid_ = -1;
  int status_ = 0;
};

struct Client {
  std::unique_ptr<transport::ClientConnection> connection;
  std::vector<uint8_t> reply_bulk = std::vector<uint8_t>(8 << 20);

  Status call(std::span<const uint8_t> meta, std::span<const transport::Segment> bulk, proto::ReplyHeader& header,
              std::vector<uint8_t>& body, size_t* bulk_received = nullptr, uint16_t opcode = proto::kBatchRequest) {
    transport::Reply reply;
    reply.bulk_dest = reply_bulk.data();
    reply.bulk_capacity = reply_bulk.size();
    if (Status s = connection->call(opcode, meta, bulk, reply); !ok(s)) return s;
    std::span<const uint8_t> result;
    if (reply.opcode != proto::kBatchReply || !proto::decode_reply(reply.meta, header, result))
      return Status::ProtocolError;
    body.assign(result.begin(), result.end());
    if (bulk_received) *bulk_received = reply.bulk_received;
    return Status::Ok;
  }

  template <typename Call>
  uint32_t one(Call call, std::vector<uint8_t>& body) {
    proto::BatchWriter batch;
    batch.add(call);
    proto::ReplyHeader header;
    REQUIRE(ok(this->call(batch.bytes(), {}, header, body)));
    return header.status;
  }
};

constexpr const char* kKey = "e2e-key-0123456789abcdef";

Client connect(uint16_t port) {
  Client c;
  const Status s = transport::ClientConnection::connect({.host = "127.0.0.1", .port = port}, c.connection);
  REQUIRE_MESSAGE(ok(s), "cannot connect: ", status_name(s));
  proto::ClientHandshake handshake(kKey);
  proto::Hello hello;
  REQUIRE(ok(handshake.hello("server_process_test", hello)));
  std::vector<uint8_t> body;
  REQUIRE(c.one(hello, body) == CUDA_SUCCESS);
  proto::HelloChallenge challenge;
  REQUIRE(proto::decode_fields(body, challenge));
  proto::Authenticate authenticate;
  std::string why;
  REQUIRE_MESSAGE(ok(handshake.answer(challenge, authenticate, why)), why);
  REQUIRE(c.one(authenticate, body) == CUDA_SUCCESS);
  return c;
}

const char* kConfig = R"({
  "listen": "127.0.0.1:0",
  "backend": "host",
  "devices": [{ "memory_mb": 64, "name": "e2e device" }],
  "limits": { "max_sessions": 8, "max_message_mb": 64, "session_memory_mb": 0 },
  "auth": { "key": "e2e-key-0123456789abcdef" }
})";

// Starts `server` with kConfig in `dir`; its port.
uint16_t start_server(ServerProcess& server, const TempDir& dir) {
  write_file(dir.path() / "server.json", kConfig);
  server.start({"--config", (dir.path() / "server.json").string(), "--port-file", (dir.path() / "port").string()},
               dir.path() / "log");
  const uint16_t port = server.wait_for_port(dir.path() / "port");
  REQUIRE_MESSAGE(port != 0, "server did not start:\n", read_file(dir.path() / "log"));
  return port;
}

}  // namespace

TEST_CASE("rrto-server: a malformed message closes that client only, and SIGTERM drains and stops the server") {
  TempDir dir;
  ServerProcess server;
  const uint16_t port = start_server(server, dir);

  Client good = connect(port);
  Client bad = connect(port);

  // Garbage where a batch should be: an error reply, then the connection goes.
  const uint8_t junk[] = {5, 0, 0, 0, 0xee, 0xee, 0xff, 0xff, 0xff, 0xff};
  proto::ReplyHeader header;
  std::vector<uint8_t> body;
  REQUIRE(ok(bad.call(junk, {}, header, body)));
  CHECK(header.status == CUDA_ERROR_INVALID_VALUE);
  proto::ErrorResult why;
  REQUIRE(proto::decode_fields(body, why));
  CHECK(why.message.find("malformed") != std::string_view::npos);
  Status after = Status::Ok;
  for (int i = 0; i < 100 && ok(after); ++i) {
    proto::BatchWriter batch;
    proto::MemGetInfo info;
    batch.add(info);
    after = bad.call(batch.bytes(), {}, header, body);
    if (ok(after)) std::this_thread::sleep_for(20ms);
  }
  CHECK(after == Status::ConnectionLost);

  // The other client goes on: alloc, copy up, copy down.
  REQUIRE(good.one(proto::MemAlloc{.size = 4096}, body) == CUDA_SUCCESS);
  proto::MemAllocResult alloc;
  REQUIRE(proto::decode_fields(body, alloc));
  std::vector<uint8_t> data(4096);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 13);
  proto::BatchWriter batch;
  proto::MemcpyHtoD up{.dst = alloc.dptr, .size = data.size(), .bulk_offset = 0};
  proto::MemcpyDtoH down{.src = alloc.dptr, .size = data.size()};
  batch.add(up);
  batch.add(down);
  const transport::Segment segment{data.data(), data.size()};
  size_t received = 0;
  REQUIRE(ok(good.call(batch.bytes(), {&segment, 1}, header, body, &received)));
  CHECK(header.status == CUDA_SUCCESS);
  REQUIRE(received == data.size());
  CHECK(std::equal(data.begin(), data.end(), good.reply_bulk.begin()));

  // Megabytes: one copy per batch, the payload received straight into device memory.
  const size_t big = 4 << 20;
  REQUIRE(good.one(proto::MemAlloc{.size = big}, body) == CUDA_SUCCESS);
  REQUIRE(proto::decode_fields(body, alloc));
  std::vector<uint8_t> tensor(big);
  for (size_t i = 0; i < big; ++i) tensor[i] = static_cast<uint8_t>(i * 7 + i / 4096);
  proto::BatchWriter put;
  proto::MemcpyHtoD whole{.dst = alloc.dptr, .size = big, .bulk_offset = 0};
  put.add(whole);
  const transport::Segment tensor_segment{tensor.data(), tensor.size()};
  REQUIRE(ok(good.call(put.bytes(), {&tensor_segment, 1}, header, body)));
  CHECK(header.status == CUDA_SUCCESS);
  proto::BatchWriter get;
  proto::MemcpyDtoH back{.src = alloc.dptr, .size = big};
  get.add(back);
  REQUIRE(ok(good.call(get.bytes(), {}, header, body, &received)));
  CHECK(header.status == CUDA_SUCCESS);
  REQUIRE(received == big);
  CHECK(std::equal(tensor.begin(), tensor.end(), good.reply_bulk.begin()));

  // A client without the key is refused.
  Client intruder;
  REQUIRE(ok(transport::ClientConnection::connect({.host = "127.0.0.1", .port = port}, intruder.connection)));
  proto::ClientHandshake keyless("");
  proto::Hello hello;
  REQUIRE(ok(keyless.hello("intruder", hello)));
  REQUIRE(intruder.one(hello, body) == CUDA_SUCCESS);
  CHECK(intruder.one(proto::Authenticate{}, body) == CUDA_ERROR_NOT_PERMITTED);

  const auto stop_asked = std::chrono::steady_clock::now();
  server.signal(SIGTERM);
  CHECK(server.wait_exit(10s) == 0);
  CHECK(std::chrono::steady_clock::now() - stop_asked < 5s);

  const std::string log = read_file(dir.path() / "log");
  CHECK(log.find("session 1 started") != std::string::npos);
  CHECK(log.find("malformed request") != std::string::npos);
  CHECK_MESSAGE(log.find("ended (server draining): freed 2 allocations") != std::string::npos, log);
  CHECK(log.find("drained: 1 connection(s) closed") != std::string::npos);
}

TEST_CASE("rrto-server: a large message before Hello is refused on its header, never received") {
  TempDir dir;
  ServerProcess server;
  const uint16_t port = start_server(server, dir);
  const uint64_t peak_before = server.peak_rss();
  REQUIRE(peak_before > 0);

  Client stranger;
  REQUIRE(ok(transport::ClientConnection::connect({.host = "127.0.0.1", .port = port}, stranger.connection)));
  const std::vector<uint8_t> payload(256u << 20, 0x5a);
  const transport::Segment segment{payload.data(), payload.size()};
  proto::BatchWriter batch;
  batch.add(proto::Hello{});
  proto::ReplyHeader header;
  std::vector<uint8_t> body;
  const Status sent = stranger.call(batch.bytes(), {&segment, 1}, header, body);
  if (ok(sent)) CHECK(header.status == CUDA_ERROR_INVALID_VALUE);
  // Whatever the client saw, the server never took the payload in.
  CHECK(server.peak_rss() < peak_before + (64u << 20));
  CHECK(read_file(dir.path() / "log").find("before Hello") != std::string::npos);
}

TEST_CASE("rrto-server: after a large batch its buffers go back") {
  TempDir dir;
  ServerProcess server;
  const uint16_t port = start_server(server, dir);
  Client c = connect(port);
  const uint64_t before = server.rss();

  // Two copies in one batch: the payload cannot land in device memory
  // directly, so the server holds it while the batch runs.
  const uint64_t size = 24u << 20;
  std::vector<uint8_t> body;
  uint64_t dst[2];
  for (uint64_t& d : dst) {
    REQUIRE(c.one(proto::MemAlloc{.size = size}, body) == CUDA_SUCCESS);
    proto::MemAllocResult alloc;
    REQUIRE(proto::decode_fields(body, alloc));
    d = alloc.dptr;
  }
  const std::vector<uint8_t> payload(2 * size, 0x33);
  proto::BatchWriter batch;
  batch.add(proto::MemcpyHtoD{.dst = dst[0], .size = size, .bulk_offset = 0});
  batch.add(proto::MemcpyHtoD{.dst = dst[1], .size = size, .bulk_offset = size});
  const transport::Segment segment{payload.data(), payload.size()};
  proto::ReplyHeader header;
  REQUIRE(ok(c.call(batch.bytes(), {&segment, 1}, header, body)));
  REQUIRE(header.status == CUDA_SUCCESS);
  REQUIRE(c.one(proto::MemGetInfo{}, body) == CUDA_SUCCESS);
  // The device memory written stays; the 48 MiB the batch arrived in do not
  // (an ASan build keeps freed memory in quarantine: nothing to see there).
#ifndef __SANITIZE_ADDRESS__
  CHECK(server.rss() < before + 2 * size + (16u << 20));
#endif
}

TEST_CASE("rrto-server: a runaway kernel times out, and SIGINT stops the server while one runs") {
  // A launch of server_test_spin(1): it never ends by itself.
  auto spin = [](Client& client, proto::ReplyHeader& header) {
    proto::BatchWriter batch;
    const uint8_t image[] = {0x7f, 'E', 'L', 'F'};
    const int32_t forever = 1;
    const uint8_t layout[8] = {0, 0, 0, 0, 4, 0, 0, 0};  // (offset 0, size 4)
    batch.add(proto::ModuleLoad{.module = 1, .bulk_offset = 0, .size = 4});
    batch.add(proto::ModuleGetFunction{.module = 1, .function = 2, .name = "_Z16server_test_spini",
                                       .param_layout = layout});
    batch.add(proto::Launch{.function = 2, .params = proto::Bytes(reinterpret_cast<const uint8_t*>(&forever), 4)});
    const transport::Segment segment{image, 4};
    std::vector<uint8_t> body;
    return client.call(batch.bytes(), {&segment, 1}, header, body);
  };
  auto start = [](ServerProcess& server, TempDir& dir, double limit_s) {
    write_file(dir.path() / "server.json",
               fmt::format(R"({{"listen": "127.0.0.1:0", "backend": "host", "auth": {{"key": "e2e-key-0123456789abcdef"}},
                              "host_kernel_libraries": ["{}"], "limits": {{"kernel_time_limit_s": {}}}}})",
                           RRTO_SERVER_TEST_KERNELS, limit_s));
    server.start({"--config", (dir.path() / "server.json").string(), "--port-file", (dir.path() / "port").string()},
                 dir.path() / "log");
    const uint16_t port = server.wait_for_port(dir.path() / "port");
    REQUIRE_MESSAGE(port != 0, "server did not start:\n", read_file(dir.path() / "log"));
    return port;
  };
  proto::ReplyHeader header;
  std::vector<uint8_t> body;
  {
    TempDir dir;
    ServerProcess server;
    const uint16_t port = start(server, dir, 0.5);
    Client runaway = connect(port);
    REQUIRE(ok(spin(runaway, header)));
    CHECK(header.status == CUDA_ERROR_LAUNCH_TIMEOUT);
    CHECK(runaway.one(proto::MemAlloc{.size = 64}, body) == CUDA_ERROR_LAUNCH_TIMEOUT);
    Client other = connect(port);
    CHECK(other.one(proto::MemAlloc{.size = 64}, body) == CUDA_SUCCESS);
  }
  TempDir dir;
  ServerProcess server;
  const uint16_t port = start(server, dir, 3600);
  Client runaway = connect(port);
  Status spun = Status::Ok;
  std::thread caller([&] { spun = spin(runaway, header); });
  std::this_thread::sleep_for(300ms);
  const auto stop_asked = std::chrono::steady_clock::now();
  server.signal(SIGINT);  // SIGTERM would drain: wait for the kernel up to SessionManager::kDrainLimit
  CHECK_MESSAGE(server.wait_exit(10s) == 0, read_file(dir.path() / "log"));
  CHECK(std::chrono::steady_clock::now() - stop_asked < 5s);
  caller.join();
  CHECK((!ok(spun) || header.status == CUDA_ERROR_LAUNCH_FAILED));
}

TEST_CASE("rrto-server: a bad config exits 2 naming the file and field") {
  TempDir dir;
  write_file(dir.path() / "bad.json",
             R"({ "listen": "127.0.0.1:0", "backend": "host", "limits": { "max_sessions": "many" } })");
  ServerProcess server;
  server.start({"--config", (dir.path() / "bad.json").string()}, dir.path() / "log");
  CHECK(server.wait_exit(10s) == 2);
  const std::string log = read_file(dir.path() / "log");
  CHECK(log.find("bad.json") != std::string::npos);
  CHECK(log.find("max_sessions") != std::string::npos);
}

TEST_CASE("rrto-server: an unknown flag prints the usage and exits 2") {
  TempDir dir;
  ServerProcess server;
  server.start({"--no-such-flag"}, dir.path() / "log");
  CHECK(server.wait_exit(10s) == 2);
  CHECK(read_file(dir.path() / "log").find("usage: rrto-server") != std::string::npos);
}

TEST_CASE("rrto-server: the cuda backend refuses RRTO's own client library as the driver") {
  TempDir dir;
  ServerProcess server;
  server.start({"--backend", "cuda", "--listen", "127.0.0.1:0"}, dir.path() / "log",
               {std::string("LD_LIBRARY_PATH=") + RRTO_FAKE_CLIENT_LIBCUDA_DIR});
  CHECK(server.wait_exit(10s) == 1);
  const std::string log = read_file(dir.path() / "log");
  CHECK_MESSAGE(log.find("RRTO's own client library") != std::string::npos, log);
}

TEST_CASE("rrto-server: a non-loopback address without a key exits 2 saying how to fix it, unless --insecure") {
  TempDir dir;
  const std::string port_file = (dir.path() / "port").string();
  {
    ServerProcess server;
    server.start({"--listen", "0.0.0.0:0", "--port-file", port_file}, dir.path() / "log");
    CHECK(server.wait_exit(10s) == 2);
    const std::string log = read_file(dir.path() / "log");
    CHECK_MESSAGE(log.find("without an auth key") != std::string::npos, log);
    CHECK(log.find("RRTO_AUTH_KEY") != std::string::npos);
    CHECK(log.find("--insecure") != std::string::npos);
  }
  SUBCASE("--insecure") {
    ServerProcess server;
    server.start({"--listen", "0.0.0.0:0", "--port-file", port_file, "--insecure"}, dir.path() / "log");
    CHECK_MESSAGE(server.wait_for_port(port_file) != 0, read_file(dir.path() / "log"));
    CHECK(read_file(dir.path() / "log").find("--insecure") != std::string::npos);
  }
  SUBCASE("a key") {
    ServerProcess server;
    server.start({"--listen", "0.0.0.0:0", "--port-file", port_file}, dir.path() / "log",
                 {std::string("RRTO_AUTH_KEY=") + kKey});
    CHECK_MESSAGE(server.wait_for_port(port_file) != 0, read_file(dir.path() / "log"));
    CHECK(read_file(dir.path() / "log").find(kKey) == std::string::npos);
  }
}

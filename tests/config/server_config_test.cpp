#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "config/config.h"
#include "temp_dir.h"

using namespace rrto::config;
using rrto::config::test::TempDir;

namespace {

std::string normal(const std::filesystem::path& p) { return p.lexically_normal().string(); }

// Loads `text` from a file and expects it to fail on `field`; returns the error.
ConfigError expect_bad(const std::string& text, const std::string& field) {
  TempDir dir;
  std::string path = dir.write("bad-server.json", text);
  ServerConfig cfg;
  ConfigError err;
  CAPTURE(text);
  CHECK_FALSE(load_server_config(path, cfg, err));
  CHECK(err.file == path);
  CHECK(err.field == field);
  CHECK(err.text().find(path) == 0);
  if (!field.empty()) CHECK(err.text().find("field '" + field + "'") != std::string::npos);
  return err;
}

std::string with(const std::string& fields) {
  return R"({"listen": "0.0.0.0:18515", "backend": "host")" + (fields.empty() ? "" : ", " + fields) + "}";
}

}  // namespace

TEST_CASE("the shipped local.json parses: host backend on loopback") {
  ServerConfig cfg;
  ConfigError err;
  REQUIRE_MESSAGE(load_server_config(RRTO_CONFIG_DIR "/local.json", cfg, err), err.text());
  CHECK(cfg.listen_address == "127.0.0.1");
  CHECK(cfg.port == 18515);
  CHECK(cfg.backend == "host");
  REQUIRE(cfg.devices.size() == 1);
  CHECK(cfg.devices[0].memory_mb == 4096);
  CHECK(cfg.cuda_devices.empty());
  REQUIRE(cfg.host_kernel_libraries.size() == 1);
  CHECK(cfg.host_kernel_libraries[0] ==
        normal(std::filesystem::path(RRTO_CONFIG_DIR) / ".." / "build/lib/librrto_example_kernels.so"));
  CHECK(cfg.auth_key.empty());
}

TEST_CASE("the shipped edge-server.json parses: cuda backend, all devices, no key") {
  ServerConfig cfg;
  ConfigError err;
  REQUIRE_MESSAGE(load_server_config(RRTO_CONFIG_DIR "/edge-server.json", cfg, err), err.text());
  CHECK(cfg.backend == "cuda");
  CHECK(cfg.listen_address == "0.0.0.0");
  CHECK(cfg.devices.empty());
  CHECK(cfg.cuda_devices.empty());
  CHECK(cfg.auth_key.empty());
}

TEST_CASE("without a file the server listens on loopback only") {
  const ServerConfig cfg;
  CHECK(cfg.listen_address == "127.0.0.1");
  CHECK(is_loopback(cfg.listen_address));
  CHECK(cfg.auth_key.empty());
}

TEST_CASE("loopback hosts") {
  for (const char* host : {"127.0.0.1", "127.1.2.3", "::1", "localhost"}) CHECK_MESSAGE(is_loopback(host), host);
  for (const char* host : {"0.0.0.0", "::", "10.0.0.2", "127.evil.example", "gpu-a", ""})
    CHECK_FALSE_MESSAGE(is_loopback(host), host);
}

TEST_CASE("a minimal server file takes the defaults for everything else") {
  ServerConfig cfg;
  ConfigError err;
  REQUIRE(parse_server_config(R"({"listen": "[::]:0", "backend": "host"})", "mem", "/base", cfg, err));
  CHECK(cfg.listen_address == "::");
  CHECK(cfg.port == 0);
  REQUIRE(cfg.devices.size() == 1);
  CHECK(cfg.devices[0].memory_mb == 4096);
  CHECK(cfg.devices[0].name == "RRTO host device");
  CHECK(cfg.limits.max_sessions == 64);
  CHECK(cfg.limits.max_message_mb == 1024);
  // Every per-session bound is on by default.
  CHECK(cfg.limits.session_memory_mb == 4096);
  CHECK(cfg.limits.session_module_mb == 1024);
  CHECK(cfg.limits.session_template_mb == 256);
  CHECK(cfg.limits.session_handles == 65536);
  CHECK(cfg.host_kernel_libraries.empty());
  CHECK(cfg.link.empty());
  CHECK(cfg.placement == "spread");
}

TEST_CASE("every server field is read") {
  ServerConfig cfg;
  ConfigError err;
  REQUIRE_MESSAGE(parse_server_config(with(R"("description": "x",
      "devices": [{"memory_mb": 1024, "name": "small", "time_scale_us": 2.5}, {"time_scale_us": 3}, {}],
      "host_kernel_libraries": ["/opt/k.so"],
      "limits": {"max_sessions": 2, "max_message_mb": 16, "session_memory_mb": 512, "session_module_mb": 8,
                 "session_template_mb": 0, "session_handles": 100},
      "auth": {"key": "s3cret-s3cret-s3cret"}, "link": "rtt=5ms,bw=100mbit", "placement": "pack",
      "local_shared_memory": true, "weights": [{"client": "cnn_driver", "weight": 3}])"),
                                      "mem", "/base", cfg, err),
                  err.text());
  REQUIRE(cfg.devices.size() == 3);
  CHECK(cfg.devices[0].memory_mb == 1024);
  CHECK(cfg.devices[0].name == "small");
  CHECK(cfg.devices[0].time_scale_us == 2.5);
  CHECK(cfg.devices[1].memory_mb == 4096);
  CHECK(cfg.devices[1].time_scale_us == 3.0);
  CHECK(cfg.devices[2].time_scale_us == 0.0);
  CHECK(cfg.host_kernel_libraries == std::vector<std::string>{"/opt/k.so"});
  CHECK(cfg.limits.max_sessions == 2);
  CHECK(cfg.limits.max_message_mb == 16);
  CHECK(cfg.limits.session_memory_mb == 512);
  CHECK(cfg.limits.session_module_mb == 8);
  CHECK(cfg.limits.session_template_mb == 0);
  CHECK(cfg.limits.session_handles == 100);
  CHECK(cfg.auth_key == "s3cret-s3cret-s3cret");
  CHECK(cfg.link == "rtt=5ms,bw=100mbit");
  CHECK(cfg.placement == "pack");
  CHECK(cfg.local_shared_memory);
  REQUIRE(cfg.weights.size() == 1);
  CHECK(cfg.weights[0].client == "cnn_driver");
  CHECK(cfg.weights[0].weight == 3);

  REQUIRE(parse_server_config(R"({"listen": "0.0.0.0:1", "backend": "cuda", "cuda_devices": [1, 0]})", "mem", "", cfg,
                              err));
  CHECK(cfg.cuda_devices == std::vector<int>{1, 0});
  CHECK(cfg.devices.empty());
}

TEST_CASE("relative library paths resolve against the config file's directory") {
  TempDir dir;
  std::string path = dir.write("etc/rrto/server.json", with(R"("host_kernel_libraries":
      ["../../lib/libk.so", "libhere.so", "/abs/libabs.so"])"));
  ServerConfig cfg;
  ConfigError err;
  REQUIRE_MESSAGE(load_server_config(path, cfg, err), err.text());
  REQUIRE(cfg.host_kernel_libraries.size() == 3);
  CHECK(cfg.host_kernel_libraries[0] == normal(dir.path() / "lib/libk.so"));
  CHECK(cfg.host_kernel_libraries[1] == normal(dir.path() / "etc/rrto/libhere.so"));
  CHECK(cfg.host_kernel_libraries[2] == "/abs/libabs.so");

  // From text, against the given base directory.
  REQUIRE(parse_server_config(with(R"("host_kernel_libraries": ["x/../k.so"])"), "mem", "/srv/rrto", cfg, err));
  CHECK(cfg.host_kernel_libraries == std::vector<std::string>{"/srv/rrto/k.so"});
}

TEST_CASE("bad JSON names the file, line and column") {
  ConfigError err = expect_bad("{\n  \"listen\": \"0.0.0.0:1\",\n  \"backend\": host\n}", "");
  CHECK(err.message.find("invalid JSON at line 3, column") == 0);
  expect_bad("", "");
  expect_bad(R"({"listen": "0.0.0.0:1", "backend": "host",})", "");
}

TEST_CASE("the top level must be an object") {
  ConfigError err = expect_bad("[1, 2]", "");
  CHECK(err.message == "expected a JSON object at the top level, got an array");
}

TEST_CASE("unknown fields are named with their path") {
  ConfigError err = expect_bad(with(R"("backnd": "host")"), "backnd");
  CHECK(err.message == "unknown field (did you mean 'backend'?)");
  err = expect_bad(with(R"("limits": {"max_sesions": 4})"), "limits.max_sesions");
  CHECK(err.message == "unknown field (did you mean 'max_sessions'?)");
  err = expect_bad(with(R"("devices": [{}, {"memory": 4}])"), "devices[1].memory");
  err = expect_bad(with(R"("auth": {"key": "0123456789abcdef", "user": "u"})"), "auth.user");
  CHECK(err.message == "unknown field (known fields: key)");
  // A misspelt required field is reported as unknown, not as missing.
  expect_bad(R"({"listen": "0.0.0.0:1", "backed": "host"})", "backed");
}

TEST_CASE("a key given twice is an error") {
  expect_bad(with(R"("link": "a", "link": "b")"), "link");
  expect_bad(with(R"("devices": [{}, {"memory_mb": 1, "memory_mb": 2}])"), "devices[1].memory_mb");
  expect_bad(with(R"("devices": [[], {"a": [1, {"b": 1}]}], "limits": {"max_sessions": 1, "max_sessions": 1})"),
             "limits.max_sessions");
}

TEST_CASE("wrong types are named") {
  ConfigError err = expect_bad(with(R"("devices": [{}, {"memory_mb": "lots"}])"), "devices[1].memory_mb");
  CHECK(err.text().find(": field 'devices[1].memory_mb': expected an integer, got a string") != std::string::npos);
  expect_bad(with(R"("devices": [{"memory_mb": 1.5}])"), "devices[0].memory_mb");
  CHECK(expect_bad(with(R"("devices": [{"time_scale_us": "2"}])"), "devices[0].time_scale_us").message ==
        "expected a number, got a string");
  expect_bad(with(R"("devices": {"memory_mb": 1})"), "devices");
  expect_bad(with(R"("devices": [4096])"), "devices[0]");
  expect_bad(with(R"("limits": 5)"), "limits");
  expect_bad(with(R"("host_kernel_libraries": "k.so")"), "host_kernel_libraries");
  expect_bad(with(R"("host_kernel_libraries": ["a.so", 7])"), "host_kernel_libraries[1]");
  expect_bad(with(R"("auth": "secret")"), "auth");
  expect_bad(with(R"("link": null)"), "link");
  expect_bad(R"({"listen": 18515, "backend": "host"})", "listen");
}

TEST_CASE("missing required fields are named") {
  CHECK(expect_bad(R"({"backend": "host"})", "listen").message == "missing required field");
  expect_bad(R"({"listen": "0.0.0.0:1"})", "backend");
  expect_bad(with(R"("auth": {})"), "auth.key");
}

TEST_CASE("bad enum values, ports and ranges are named") {
  CHECK(expect_bad(R"({"listen": "0.0.0.0:1", "backend": "gpu"})", "backend").message ==
        "expected one of host, cuda, got 'gpu'");
  expect_bad(R"({"listen": "0.0.0.0:65536", "backend": "host"})", "listen");
  expect_bad(R"({"listen": "0.0.0.0", "backend": "host"})", "listen");
  expect_bad(R"({"listen": "::1:80", "backend": "host"})", "listen");
  expect_bad(with(R"("devices": [{"memory_mb": 0}])"), "devices[0].memory_mb");
  expect_bad(with(R"("devices": [{"memory_mb": -1}])"), "devices[0].memory_mb");
  expect_bad(with(R"("devices": [{"name": ""}])"), "devices[0].name");
  expect_bad(with(R"("devices": [{"time_scale_us": -0.5}])"), "devices[0].time_scale_us");
  expect_bad(with(R"("devices": [{"time_scale_us": 1000001}])"), "devices[0].time_scale_us");
  expect_bad(with(R"("devices": [])"), "devices");
  expect_bad(with(R"("limits": {"max_sessions": 0})"), "limits.max_sessions");
  expect_bad(with(R"("limits": {"max_sessions": 4294967296})"), "limits.max_sessions");
  expect_bad(with(R"("limits": {"max_message_mb": 0})"), "limits.max_message_mb");
  expect_bad(with(R"("auth": {"key": ""})"), "auth.key");
  expect_bad(with(R"("auth": {"key": "fifteen-chars.."})"), "auth.key");
  expect_bad(with(R"("host_kernel_libraries": [""])"), "host_kernel_libraries[0]");
  expect_bad(with(R"("weights": [{"client": "x", "weight": 0}])"), "weights[0].weight");
  expect_bad(with(R"("weights": [{"client": "x", "weight": 101}])"), "weights[0].weight");
  expect_bad(with(R"("weights": [{"weight": 2}])"), "weights[0].client");
  expect_bad(with(R"("local_shared_memory": 1)"), "local_shared_memory");
  CHECK(expect_bad(with(R"("placement": "random")"), "placement").message ==
        "expected one of spread, pack, got 'random'");
}

TEST_CASE("device lists must match the backend") {
  expect_bad(with(R"("cuda_devices": [0])"), "cuda_devices");
  expect_bad(R"({"listen": "0.0.0.0:1", "backend": "cuda", "devices": [{}]})", "devices");
  expect_bad(R"({"listen": "0.0.0.0:1", "backend": "cuda", "cuda_devices": [0, 0]})", "cuda_devices[1]");
  expect_bad(R"({"listen": "0.0.0.0:1", "backend": "cuda", "cuda_devices": [-1]})", "cuda_devices[0]");
}

TEST_CASE("an unreadable file is an error naming it, and the output is left alone") {
  TempDir dir;
  std::string missing = (dir.path() / "nope.json").string();
  ServerConfig cfg;
  cfg.port = 1234;
  ConfigError err;
  CHECK_FALSE(load_server_config(missing, cfg, err));
  CHECK(err.file == missing);
  CHECK(err.text().find(missing + ": cannot read") == 0);
  CHECK_FALSE(load_server_config(dir.path().string(), cfg, err));
  CHECK(err.message.find("directory") != std::string::npos);
  CHECK_FALSE(parse_server_config(with(R"("limits": {"max_sessions": 0})"), "mem", "", cfg, err));
  CHECK(cfg.port == 1234);
}

TEST_CASE("the status endpoint: off by default, a bare port is loopback, an address written out is kept") {
  ServerConfig cfg;
  ConfigError err;
  REQUIRE_MESSAGE(parse_server_config(with(""), "s.json", "", cfg, err), err.text());
  CHECK_FALSE(cfg.status_listen.has_value());

  REQUIRE_MESSAGE(parse_server_config(with(R"("status": {"listen": "9464"})"), "s.json", "", cfg, err), err.text());
  REQUIRE(cfg.status_listen.has_value());
  CHECK(cfg.status_listen->host == "127.0.0.1");
  CHECK(cfg.status_listen->port == 9464);

  REQUIRE_MESSAGE(parse_server_config(with(R"("status": {"listen": "0.0.0.0:0"})"), "s.json", "", cfg, err),
                  err.text());
  REQUIRE(cfg.status_listen.has_value());
  CHECK(cfg.status_listen->host == "0.0.0.0");
  CHECK(cfg.status_listen->port == 0);

  expect_bad(with(R"("status": {})"), "status.listen");
  expect_bad(with(R"("status": {"listen": "0.0.0.0"})"), "status.listen");
  expect_bad(with(R"("status": {"listen": "65536"})"), "status.listen");
  expect_bad(with(R"("status": {"listen": ":9464"})"), "status.listen");
  expect_bad(with(R"("status": {"port": 9464})"), "status.port");
}

TEST_CASE("the cluster: off by default; etcd members, a name, and where clients reach this server") {
  ServerConfig cfg;
  ConfigError err;
  REQUIRE_MESSAGE(parse_server_config(with(""), "s.json", "", cfg, err), err.text());
  CHECK_FALSE(cfg.cluster.has_value());

  REQUIRE_MESSAGE(parse_server_config(with(R"("cluster": {"etcd": ["10.0.0.9:2379", "etcd-b:2379"], "name": "gpu-1",
                                                  "advertise": "10.0.0.2:18515", "lease_ttl_s": 3})"),
                                      "s.json", "", cfg, err),
                  err.text());
  REQUIRE(cfg.cluster.has_value());
  REQUIRE(cfg.cluster->etcd.size() == 2);
  CHECK(cfg.cluster->etcd[1].host == "etcd-b");
  CHECK(cfg.cluster->etcd[1].port == 2379);
  CHECK(cfg.cluster->name == "gpu-1");
  REQUIRE(cfg.cluster->advertise.has_value());
  CHECK(cfg.cluster->advertise->host == "10.0.0.2");
  CHECK(cfg.cluster->lease_ttl_s == 3);

  REQUIRE_MESSAGE(parse_server_config(with(R"("cluster": {"etcd": ["e:2379"], "name": "n"})"), "s.json", "", cfg, err),
                  err.text());
  CHECK_FALSE(cfg.cluster->advertise.has_value());
  CHECK(cfg.cluster->lease_ttl_s == 5);

  expect_bad(with(R"("cluster": {"name": "n"})"), "cluster.etcd");
  expect_bad(with(R"("cluster": {"etcd": [], "name": "n"})"), "cluster.etcd");
  expect_bad(with(R"("cluster": {"etcd": ["e"], "name": "n"})"), "cluster.etcd[0]");
  expect_bad(with(R"("cluster": {"etcd": ["e:1", "e:1"], "name": "n"})"), "cluster.etcd[1]");
  expect_bad(with(R"("cluster": {"etcd": ["e:1"]})"), "cluster.name");
  expect_bad(with(R"("cluster": {"etcd": ["e:1"], "name": ""})"), "cluster.name");
  expect_bad(with(R"("cluster": {"etcd": ["e:1"], "name": "a/b"})"), "cluster.name");
  expect_bad(with(R"("cluster": {"etcd": ["e:1"], "name": "n", "advertise": "host"})"), "cluster.advertise");
  expect_bad(with(R"("cluster": {"etcd": ["e:1"], "name": "n", "lease_ttl_s": 1})"), "cluster.lease_ttl_s");
  expect_bad(with(R"("cluster": {"etcd": ["e:1"], "name": "n", "members": 3})"), "cluster.members");
}

#include <doctest/doctest.h>

#include <filesystem>
#include <map>
#include <string>

#include "config/config.h"

using namespace rrto::config;

namespace {

// A fake environment.
struct FakeEnv {
  std::map<std::string, std::string> vars;
  GetEnv getenv() const {
    return [this](const char* name) -> const char* {
      auto it = vars.find(name);
      return it == vars.end() ? nullptr : it->second.c_str();
    };
  }
};

std::string cwd_path(const std::string& rel) {
  return (std::filesystem::current_path() / rel).lexically_normal().string();
}

void expect_env_error(const ConfigError& err, const std::string& variable) {
  CHECK(err.file == "environment");
  CHECK(err.field == variable);
  CHECK(err.text().find("environment: variable '" + variable + "': ") == 0);
}

}  // namespace

TEST_CASE("no variables change nothing") {
  ServerConfig server;
  ClientConfig client;
  ConfigError err;
  FakeEnv env;
  REQUIRE(apply_server_env(server, err, env.getenv()));
  REQUIRE(apply_client_env(client, err, env.getenv()));
  CHECK(server.port == 18515);
  CHECK(server.devices.size() == 1);
  CHECK(client.servers.size() == 1);
  CHECK(client.mode == "replay");
}

TEST_CASE("server variables override single fields of the file") {
  ServerConfig cfg;
  ConfigError err;
  REQUIRE(parse_server_config(R"({"listen": "127.0.0.1:18515", "backend": "host", "link": "lan",
      "devices": [{"memory_mb": 8192}], "host_kernel_libraries": ["/a/libk.so"], "auth": {"key": "key-from-the-file"}})",
                              "mem", "", cfg, err));

  FakeEnv env{{{"RRTO_LISTEN", "[::]:9000"}}};
  REQUIRE(apply_server_env(cfg, err, env.getenv()));
  CHECK(cfg.listen_address == "::");
  CHECK(cfg.port == 9000);
  CHECK(cfg.link == "lan");  // untouched
  CHECK(cfg.devices[0].memory_mb == 8192);

  env.vars = {{"RRTO_HOST_KERNELS", "/b/libk.so::rel/libk.so"}, {"RRTO_LINK", "rtt=5ms"},
              {"RRTO_AUTH_KEY", "key-from-the-environment"}, {"RRTO_BACKEND", "host"}};
  REQUIRE(apply_server_env(cfg, err, env.getenv()));
  CHECK(cfg.host_kernel_libraries == std::vector<std::string>{"/a/libk.so", "/b/libk.so", cwd_path("rel/libk.so")});
  CHECK(cfg.link == "rtt=5ms");
  CHECK(cfg.auth_key == "key-from-the-environment");
  CHECK(cfg.devices[0].memory_mb == 8192);  // same backend: devices kept
  CHECK(cfg.port == 9000);
}

TEST_CASE("RRTO_STATUS_LISTEN turns the status endpoint on; a bare port is loopback") {
  ServerConfig cfg;
  ConfigError err;
  FakeEnv port{{{"RRTO_STATUS_LISTEN", "9464"}}};
  REQUIRE_MESSAGE(apply_server_env(cfg, err, port.getenv()), err.text());
  REQUIRE(cfg.status_listen.has_value());
  CHECK(cfg.status_listen->host == "127.0.0.1");
  CHECK(cfg.status_listen->port == 9464);

  FakeEnv address{{{"RRTO_STATUS_LISTEN", "[::]:9465"}}};
  REQUIRE_MESSAGE(apply_server_env(cfg, err, address.getenv()), err.text());
  CHECK(cfg.status_listen->host == "::");
  CHECK(cfg.status_listen->port == 9465);
}

TEST_CASE("RRTO_LOCAL_SHARED_MEMORY lets local clients use shared memory") {
  ServerConfig cfg;
  CHECK_FALSE(cfg.local_shared_memory);
  ConfigError err;
  FakeEnv on{{{"RRTO_LOCAL_SHARED_MEMORY", "1"}}};
  REQUIRE_MESSAGE(apply_server_env(cfg, err, on.getenv()), err.text());
  CHECK(cfg.local_shared_memory);
  FakeEnv off{{{"RRTO_LOCAL_SHARED_MEMORY", "false"}}};
  REQUIRE_MESSAGE(apply_server_env(cfg, err, off.getenv()), err.text());
  CHECK_FALSE(cfg.local_shared_memory);
}

TEST_CASE("RRTO_BACKEND switches the device lists with the backend") {
  ServerConfig cfg;  // defaults: host, one device
  ConfigError err;
  FakeEnv env{{{"RRTO_BACKEND", "cuda"}}};
  REQUIRE(apply_server_env(cfg, err, env.getenv()));
  CHECK(cfg.backend == "cuda");
  CHECK(cfg.devices.empty());
  env.vars["RRTO_BACKEND"] = "host";
  REQUIRE(apply_server_env(cfg, err, env.getenv()));
  CHECK(cfg.devices.size() == 1);
}

TEST_CASE("an empty variable counts as unset") {
  ClientConfig cfg;
  ConfigError err;
  FakeEnv env{{{"RRTO_MODE", ""}, {"RRTO_SERVER", ""}, {"RRTO_AUTH_KEY", ""}}};
  cfg.auth_key = "kept";
  REQUIRE(apply_client_env(cfg, err, env.getenv()));
  CHECK(cfg.mode == "replay");
  CHECK(cfg.servers.size() == 1);
  CHECK(cfg.auth_key == "kept");
}

TEST_CASE("client variables override single fields") {
  ClientConfig cfg;
  ConfigError err;
  REQUIRE(load_client_config(RRTO_CONFIG_DIR "/edge-cluster.json", cfg, err));
  const std::string key = cfg.auth_key;

  FakeEnv env{{{"RRTO_MODE", "rpc"}}};
  REQUIRE(apply_client_env(cfg, err, env.getenv()));
  CHECK(cfg.mode == "rpc");
  CHECK(cfg.servers.size() == 2);  // untouched
  CHECK(cfg.auth_key == key);

  env.vars = {{"RRTO_SERVER", "gpu-a:1, [fd00::2]:2"}, {"RRTO_STATS", "1"}, {"RRTO_TRACE", "t/run.trace"},
              {"RRTO_LINK", "wifi6"}, {"RRTO_AUTH_KEY", "0123456789abcdef"}, {"RRTO_TIMEOUT", "90"}};
  REQUIRE(apply_client_env(cfg, err, env.getenv()));
  REQUIRE(cfg.servers.size() == 2);
  CHECK(cfg.servers[0].host == "gpu-a");
  CHECK(cfg.servers[1].host == "fd00::2");
  CHECK(cfg.servers[1].port == 2);
  CHECK(cfg.stats);
  CHECK(cfg.trace_path == cwd_path("t/run.trace"));
  CHECK(cfg.link == "wifi6");
  CHECK(cfg.auth_key == "0123456789abcdef");
  CHECK(cfg.timeout_s == 90);
  CHECK(cfg.mode == "rpc");  // RRTO_MODE unset this time: the earlier value stays
  CHECK(cfg.servers_given);
  env.vars = {{"RRTO_TIMEOUT", "0"}, {"RRTO_COMPRESSION", "off"}, {"RRTO_SPECULATION", "always"}};
  REQUIRE(apply_client_env(cfg, err, env.getenv()));
  CHECK(cfg.timeout_s == 0);
  CHECK(cfg.compression == "off");
  CHECK(cfg.speculation == "always");
}

TEST_CASE("bad variables are errors naming them, and change nothing") {
  ConfigError err;
  ServerConfig server;
  for (auto [name, value] : std::multimap<std::string, std::string>{
           {"RRTO_LISTEN", "localhost"},
           {"RRTO_LISTEN", "::1:80"},
           {"RRTO_BACKEND", "gpu"},
           {"RRTO_STATUS_LISTEN", "localhost"},
           {"RRTO_STATUS_LISTEN", "70000"},
           {"RRTO_LOCAL_SHARED_MEMORY", "yes"}}) {
    CAPTURE(value);
    FakeEnv env{{{name, value}, {"RRTO_AUTH_KEY", "0123456789abcdef"}}};
    CHECK_FALSE(apply_server_env(server, err, env.getenv()));
    expect_env_error(err, name);
    CHECK(server.auth_key.empty());
  }

  ClientConfig client;
  for (auto [name, value] : std::multimap<std::string, std::string>{{"RRTO_SERVER", "a"},
                                                                    {"RRTO_SERVER", "a:1,,b:2"},
                                                                    {"RRTO_SERVER", "a:0"},
                                                                    {"RRTO_SERVER", "a:1,a:1"},
                                                                    {"RRTO_MODE", "fast"},
                                                                    {"RRTO_COMPRESSION", "zstd"},
                                                                    {"RRTO_STATS", "yes"},
                                                                    {"RRTO_AUTH_KEY", "too-short"},
                                                                    {"RRTO_TIMEOUT", "4"},
                                                                    {"RRTO_TIMEOUT", "-1"},
                                                                    {"RRTO_TIMEOUT", "30s"},
                                                                    {"RRTO_TIMEOUT", "99999999999999999999"}}) {
    CAPTURE(value);
    FakeEnv env{{{name, value}, {"RRTO_LINK", "new"}}};
    CHECK_FALSE(apply_client_env(client, err, env.getenv()));
    expect_env_error(err, name);
    CHECK(client.link.empty());
    CHECK(client.servers.size() == 1);
  }
}

TEST_CASE("a short RRTO_AUTH_KEY is refused without being echoed") {
  ServerConfig cfg;
  ConfigError err;
  FakeEnv env{{{"RRTO_AUTH_KEY", "guessable"}}};
  CHECK_FALSE(apply_server_env(cfg, err, env.getenv()));
  expect_env_error(err, "RRTO_AUTH_KEY");
  CHECK(err.text().find("guessable") == std::string::npos);
  CHECK(cfg.auth_key.empty());
}

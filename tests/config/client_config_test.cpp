#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "config/config.h"
#include "temp_dir.h"

using namespace rrto::config;
using rrto::config::test::TempDir;

namespace {

ConfigError expect_bad(const std::string& text, const std::string& field) {
  TempDir dir;
  std::string path = dir.write("bad-client.json", text);
  ClientConfig cfg;
  ConfigError err;
  CAPTURE(text);
  CHECK_FALSE(load_client_config(path, cfg, err));
  CHECK(err.file == path);
  CHECK(err.field == field);
  CHECK(err.text().find(path) == 0);
  if (!field.empty()) CHECK(err.text().find("field '" + field + "'") != std::string::npos);
  return err;
}

std::string with(const std::string& fields) {
  return R"({"servers": ["10.0.0.2:18515"])" + (fields.empty() ? "" : ", " + fields) + "}";
}

}  // namespace

TEST_CASE("client defaults: one local server, replay") {
  ClientConfig cfg;
  REQUIRE(cfg.servers.size() == 1);
  CHECK(cfg.servers[0].host == "127.0.0.1");
  CHECK(cfg.servers[0].port == 18515);
  CHECK(cfg.mode == "replay");
}

TEST_CASE("the shipped edge-cluster.json parses: several servers") {
  ClientConfig cfg;
  ConfigError err;
  REQUIRE_MESSAGE(load_client_config(RRTO_CONFIG_DIR "/edge-cluster.json", cfg, err), err.text());
  REQUIRE(cfg.servers.size() >= 2);
  CHECK(cfg.servers[0].host == "10.0.0.2");
  CHECK(cfg.servers[0].port == 18515);
  CHECK(cfg.servers[1].host == "10.0.0.3");
  CHECK(cfg.mode == "replay");
}

TEST_CASE("the shipped edge configs ship no key: each site makes its own") {
  ClientConfig client;
  ServerConfig server;
  ConfigError err;
  REQUIRE(load_client_config(RRTO_CONFIG_DIR "/edge-cluster.json", client, err));
  REQUIRE(load_server_config(RRTO_CONFIG_DIR "/edge-server.json", server, err));
  CHECK(client.auth_key.empty());
  CHECK(server.auth_key.empty());
}

TEST_CASE("every client field is read") {
  ClientConfig cfg;
  ConfigError err;
  REQUIRE_MESSAGE(parse_client_config(R"({"description": "d", "servers": ["a:1", "[::1]:2", "a:3"],
      "mode": "rpc", "link": "wifi6", "auth": {"key": "0123456789abcdef"}, "timeout_s": 120, "stats": true,
      "trace": "out/trace.bin", "compression": {"mode": "always", "uplink_mbit": 50}, "speculation": "off"})",
                                      "mem", "/work", cfg, err),
                  err.text());
  REQUIRE(cfg.servers.size() == 3);
  CHECK(cfg.servers[1].host == "::1");
  CHECK(cfg.servers[1].port == 2);
  CHECK(cfg.servers[2].port == 3);
  CHECK(cfg.mode == "rpc");
  CHECK(cfg.link == "wifi6");
  CHECK(cfg.auth_key == "0123456789abcdef");
  CHECK(cfg.timeout_s == 120);
  CHECK(cfg.stats);
  CHECK(cfg.trace_path == "/work/out/trace.bin");
  CHECK(cfg.compression == "always");
  CHECK(cfg.uplink_mbit == 50);
  CHECK(cfg.speculation == "off");
  CHECK(cfg.servers_given);

  REQUIRE(parse_client_config(with(""), "mem", "", cfg, err));
  CHECK(cfg.speculation == "auto");
  CHECK(cfg.compression == "auto");
  CHECK(cfg.uplink_mbit == 0);
  CHECK(cfg.servers.size() == 1);
  CHECK(cfg.mode == "replay");
  CHECK_FALSE(cfg.stats);
  CHECK(cfg.trace_path.empty());
  CHECK(cfg.timeout_s == 30);
}

TEST_CASE("a relative trace path resolves against the file's directory") {
  TempDir dir;
  std::string path = dir.write("client/rrto.json", with(R"("trace": "../traces/app.trace")"));
  ClientConfig cfg;
  ConfigError err;
  REQUIRE_MESSAGE(load_client_config(path, cfg, err), err.text());
  CHECK(cfg.trace_path == (dir.path() / "traces/app.trace").lexically_normal().string());
}

TEST_CASE("bad client files name the file and the field") {
  CHECK(expect_bad("{\"servers\": [\"a:1\"]\n\"mode\": \"rpc\"}", "").message.find("line 2") != std::string::npos);
  CHECK(expect_bad(R"({"mode": "rpc"})", "servers").message == "missing required field");
  CHECK(expect_bad(with(R"("server": "b:1")"), "server").message == "unknown field (did you mean 'servers'?)");
  expect_bad(with(R"("auth": {"kee": "0123456789abcdef"})"), "auth.kee");
  expect_bad(with(R"("auth": {"token": "0123456789abcdef"})"), "auth.token");
  const ConfigError short_key = expect_bad(with(R"("auth": {"key": "short-secret"})"), "auth.key");
  CHECK(short_key.message.find("at least 16 characters") != std::string::npos);
  CHECK(short_key.text().find("short-secret") == std::string::npos);
  expect_bad(R"({"servers": "a:1"})", "servers");
  expect_bad(R"({"servers": []})", "servers");
  expect_bad(R"({"servers": ["a:1", 2]})", "servers[1]");
  CHECK(expect_bad(R"({"servers": ["a:1", "b"]})", "servers[1]").message == "expected \"host:port\", got 'b': missing ':port'");
  expect_bad(R"({"servers": ["a:99999"]})", "servers[0]");
  expect_bad(R"({"servers": ["a:0"]})", "servers[0]");
  expect_bad(R"({"servers": ["a:1", "a:1"]})", "servers[1]");
  CHECK(expect_bad(with(R"("mode": "fast")"), "mode").message == "expected one of rpc, async, replay, got 'fast'");
  CHECK(expect_bad(with(R"("stats": "yes")"), "stats").message == "expected true or false, got a string");
  expect_bad(with(R"("stats": 1)"), "stats");
  CHECK(expect_bad(with(R"("timeout_s": 2)"), "timeout_s").message.find("too short") != std::string::npos);
  expect_bad(with(R"("timeout_s": -5)"), "timeout_s");
  expect_bad(with(R"("trace": "")"), "trace");
  expect_bad(with(R"("link": 5)"), "link");
  expect_bad(with(R"("mode": "rpc", "mode": "rpc")"), "mode");
  expect_bad(with(R"("compression": {"mode": "zstd"})"), "compression.mode");
  expect_bad(with(R"("compression": {"uplink_mbit": -1})"), "compression.uplink_mbit");
  expect_bad(with(R"("compression": {"level": 3})"), "compression.level");
}

#include <doctest/doctest.h>

#include <vector>

#include "server/options.h"

using namespace rrto::server;

namespace {

ParseOutcome parse(std::vector<const char*> args, Options& options, std::string& error) {
  args.insert(args.begin(), "rrto-server");
  return parse_options(static_cast<int>(args.size()), args.data(), options, error);
}

}  // namespace

TEST_CASE("command line: flags with separate and joined values") {
  Options o;
  std::string error;
  REQUIRE(parse({"--config", "a.json", "--listen=127.0.0.1:0", "--backend", "cuda", "--port-file", "p"}, o, error) ==
          ParseOutcome::Run);
  CHECK(o.config_path == "a.json");
  CHECK(o.listen == "127.0.0.1:0");
  CHECK(o.backend == "cuda");
  CHECK(o.port_file == "p");
  CHECK(o.status.empty());
  REQUIRE(parse({"--status", "127.0.0.1:9464"}, o, error) == ParseOutcome::Run);
  CHECK(o.status == "127.0.0.1:9464");
  REQUIRE(parse({"--status-port-file=s"}, o, error) == ParseOutcome::Run);
  CHECK(o.status_port_file == "s");
  CHECK(o.status == "127.0.0.1:9464");
}

TEST_CASE("command line: help, unknown flags, missing values, bad backend") {
  Options o;
  std::string error;
  CHECK(parse({"-h"}, o, error) == ParseOutcome::Help);
  CHECK(parse({"--config", "x", "--help"}, o, error) == ParseOutcome::Help);
  CHECK(parse({"--frobnicate"}, o, error) == ParseOutcome::Error);
  CHECK(error.find("--frobnicate") != std::string::npos);
  CHECK(parse({"--config"}, o, error) == ParseOutcome::Error);
  CHECK(parse({"--backend", "gpu"}, o, error) == ParseOutcome::Error);
  CHECK(parse({"--configx=1"}, o, error) == ParseOutcome::Error);
}

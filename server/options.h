// rrto-server's command line.
#pragma once

#include <string>

namespace rrto::server {

struct Options {
  std::string config_path;  // empty: built-in defaults (and the environment)
  std::string listen;       // ADDR:PORT, overrides the config
  std::string backend;      // host | cuda, overrides the config
  std::string port_file;    // where to write the bound port once listening
  std::string status_port_file;  // where to write the status endpoint's bound port
  std::string status;       // HOST:PORT of a server's status endpoint: print its status instead of serving
  bool insecure = false;    // serve a non-loopback address without an auth key
};

enum class ParseOutcome { Run, Help, Error };

// On Error, `error` says what was wrong (print it with the usage).
ParseOutcome parse_options(int argc, const char* const* argv, Options& out, std::string& error);

const char* usage();

}  // namespace rrto::server

// rrto-server from start to stop: config, devices, listening, serving until
// SIGINT/SIGTERM, then ending every session.
#pragma once

#include <string>

#include "config/config.h"
#include "server/options.h"

namespace rrto::server {

// Exit codes of rrto-server.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;   // could not start (no device, port in use, ...)
inline constexpr int kExitBadUsage = 2;  // bad command line or config

// The config file (if any), then the environment, then the command line's
// overrides. False with a one-line message naming the file and field.
bool load_config(const Options& options, config::ServerConfig& config, std::string& error);

// Runs the server in the foreground; returns the process's exit code.
int run_server(const Options& options);

// --status: prints a running server's status; 0, or 1 when it cannot be read.
int print_status(const Options& options);

}  // namespace rrto::server

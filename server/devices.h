// Builds the devices the config asks for: emulated host devices with their
// host-kernel libraries, or the GPUs of the real driver.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "config/config.h"
#include "server/backend.h"

namespace rrto::server {

// Owns the devices and whatever they share (the driver, kernel libraries).
class DeviceSet {
 public:
  virtual ~DeviceSet() = default;
  virtual std::vector<Device*> devices() const = 0;
  virtual const char* backend_name() const = 0;
  // Ends the kernels that run and starts no more (server shutdown), so that
  // nothing waits for a kernel that does not end. Async-signal-safe.
  virtual void stop_kernels() = 0;
};

// On failure, `error` is one sentence for the operator.
Status open_devices(const config::ServerConfig& config, std::unique_ptr<DeviceSet>& out, std::string& error);

}  // namespace rrto::server

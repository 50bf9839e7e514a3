#include "server/devices.h"

#include <cmath>

#include <fmt/format.h>

#include "common/log.h"
#include "server/cuda/cuda_device.h"
#include "server/cuda/cuda_driver.h"
#include "server/host/host_device.h"
#include "server/hostkernel/loader.h"

namespace rrto::server {
namespace {

constexpr const char* kLog = "server";

template <typename DeviceType>
class OwnedDevices : public DeviceSet {
 public:
  explicit OwnedDevices(const char* backend) : backend_(backend) {}
  std::vector<Device*> devices() const override {
    std::vector<Device*> out;
    for (const auto& d : devices_) out.push_back(d.get());
    return out;
  }
  const char* backend_name() const override { return backend_; }

  std::vector<std::unique_ptr<DeviceType>> devices_;

 private:
  const char* backend_;
};

class HostDevices final : public OwnedDevices<host::HostDevice> {
 public:
  HostDevices() : OwnedDevices("host") {}
  ~HostDevices() override { devices_.clear(); }  // before the kernel libraries they use
  void stop_kernels() override {
    for (const auto& device : devices_) device->stop_kernels();
  }
  std::shared_ptr<HostKernelRegistry> kernels = std::make_shared<HostKernelRegistry>();
};

class CudaDevices final : public OwnedDevices<cuda::CudaDevice> {
 public:
  CudaDevices() : OwnedDevices("cuda") {}
  ~CudaDevices() override { devices_.clear(); }  // before the driver table they use
  // A GPU's kernels cannot be ended from here; the driver ends them with the process.
  void stop_kernels() override {}
  cuda::CudaDriver driver;
};

Status open_host_devices(const config::ServerConfig& config, std::unique_ptr<DeviceSet>& out, std::string& error) {
  auto set = std::make_unique<HostDevices>();
  for (const std::string& path : config.host_kernel_libraries) {
    if (Status s = set->kernels->add(path, error); !ok(s)) return s;
    RRTO_INFO(kLog, "host kernels: {} ({} kernels)", path, set->kernels->libraries().back()->kernels().size());
  }
  if (config.host_kernel_libraries.empty())
    RRTO_WARN(kLog, "no host-kernel library (host_kernel_libraries): every kernel launch will fail with "
                    "CUDA_ERROR_NOT_FOUND");
  if (config.devices.empty()) {
    error = "the host backend needs at least one device (devices)";
    return Status::InvalidArgument;
  }
  for (size_t i = 0; i < config.devices.size(); ++i) {
    const config::HostDeviceConfig& d = config.devices[i];
    host::HostDeviceOptions options{
        .index = i,
        .name = d.name,
        .memory_bytes = d.memory_mb << 20,
        .time_scale_us = d.time_scale_us,
        .kernel_time_limit = std::chrono::milliseconds(std::llround(config.limits.kernel_time_limit_s * 1000))};
    set->devices_.push_back(std::make_unique<host::HostDevice>(options, set->kernels));
    if (d.time_scale_us > 0) {
      RRTO_INFO(kLog, "device {}: {} (host, {} MiB, simulated time {} us per thread block)", i, d.name, d.memory_mb,
                d.time_scale_us);
    } else {
      RRTO_INFO(kLog, "device {}: {} (host, {} MiB)", i, d.name, d.memory_mb);
    }
  }
  out = std::move(set);
  return Status::Ok;
}

Status open_cuda_devices(const config::ServerConfig& config, std::unique_ptr<DeviceSet>& out, std::string& error) {
  auto set = std::make_unique<CudaDevices>();
  if (Status s = cuda::CudaDriver::load(set->driver, error); !ok(s)) return s;
  std::vector<int> ordinals = config.cuda_devices;
  if (ordinals.empty()) {
    int count = 0;
    set->driver.cuDeviceGetCount(&count);
    for (int i = 0; i < count; ++i) ordinals.push_back(i);
  }
  for (int ordinal : ordinals) {
    std::unique_ptr<cuda::CudaDevice> device;
    if (Status s = cuda::CudaDevice::open(set->driver, ordinal, device, error); !ok(s)) return s;
    RRTO_INFO(kLog, "device {}: GPU {} ({})", set->devices_.size(), ordinal, device->description().name);
    set->devices_.push_back(std::move(device));
  }
  out = std::move(set);
  return Status::Ok;
}

}  // namespace

Status open_devices(const config::ServerConfig& config, std::unique_ptr<DeviceSet>& out, std::string& error) {
  if (config.backend == "host") return open_host_devices(config, out, error);
  if (config.backend == "cuda") return open_cuda_devices(config, out, error);
  error = fmt::format("unknown backend '{}' (host or cuda)", config.backend);
  return Status::InvalidArgument;
}

}  // namespace rrto::server

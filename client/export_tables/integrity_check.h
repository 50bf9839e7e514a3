// cudart's integrity handshake (export table d4082055-bde6-704b-8d34-
// ba123c66e1f2): at start-up cudart asks the driver for a 16-byte answer per
// runtime version it speaks and checks it against its own computation; a
// wrong answer fails every runtime call (cudaErrorSoftwareValidityNotEstablished).
//
// For runtime versions ending in 0 or 1 the answer is a constant. Otherwise it
// is HMAC-MD2, under a fixed key, of what both sides know: driver and runtime
// versions, process and thread, the addresses of the export tables involved,
// the caller's timestamp, then every device's UUID and PCI location (the ones
// the driver reports through cuDeviceGetUuid / cuDeviceGetAttribute).
#pragma once

#include <cuda.h>

#include <array>
#include <cstdint>
#include <span>

namespace rrto::client {

struct IntegrityQuery {
  uint32_t driver_version;   // as cuDriverGetVersion reports it
  uint32_t runtime_version;  // cudart's, as passed in
  uint32_t process_id;
  uint32_t thread_id;              // pthread_self(), low 32 bits
  const void* cudart_table;        // the cudart interface export table
  const void* integrity_table;     // the table holding the check
  const void* integrity_function;  // the check itself (its slot 1)
  uint64_t unix_seconds;           // as passed in
};

struct IntegrityDevice {
  CUuuid uuid;
  int32_t pci_domain, pci_bus, pci_device;
};

std::array<uint8_t, 16> integrity_answer(const IntegrityQuery& query, std::span<const IntegrityDevice> devices);

}  // namespace rrto::client

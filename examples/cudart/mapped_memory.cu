// mapped_memory: kernels that read and write host memory mapped for the
// device. Two inputs, one from cudaHostAlloc(cudaHostAllocMapped) and one
// the program's own memory registered with cudaHostRegister
// (cudaHostRegisterMapped), are written by the host; a kernel reads them
// through their device pointers (cudaHostGetDevicePointer) into a mapped
// output, a second kernel folds that into a registered mapped running total,
// and the host reads both after cudaStreamSynchronize or
// cudaDeviceSynchronize. Several iterations (so that a replaying client
// replays them), each exact against a CPU reference; plus cudaHostGetFlags
// and cudaPointerGetAttributes on the buffers. While the kernels run, the host
// writes another mapped buffer no kernel touches: synchronising must keep
// those writes.
// Runs unchanged on a GPU or through RRTO's libcuda.so.1.
//
// Exit status: 0 every check passed, 1 a check failed, 2 an unexpected CUDA error.
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "examples/cudart/cudart_util.h"
#include "mapped_memory_kernels.cu"

namespace {

using examples::check_rt;

constexpr int kN = 1000;
constexpr unsigned kBlock = 128;
constexpr unsigned kGrid = (kN + kBlock - 1) / kBlock;
constexpr int kIterations = 8;
constexpr size_t kBytes = kN * sizeof(unsigned);

// A host buffer and the device pointer the kernels reach it through.
struct Mapped {
  unsigned* host = nullptr;
  unsigned* device = nullptr;
};

struct Buffers {
  Mapped a, b, out, total;  // a, out: cudaHostAlloc; b, total: cudaHostRegister
  unsigned* host_only = nullptr;  // mapped, written by the host only
};

bool map(Mapped& m, const char* what) {
  void* device = nullptr;
  if (!check_rt(cudaHostGetDevicePointer(&device, m.host, 0), what)) return false;
  m.device = static_cast<unsigned*>(device);
  return true;
}

bool allocate(Buffers& buf) {
  void* a = nullptr;
  void* out = nullptr;
  void* host_only = nullptr;
  if (!check_rt(cudaHostAlloc(&a, kBytes, cudaHostAllocMapped), "cudaHostAlloc(cudaHostAllocMapped)") ||
      !check_rt(cudaHostAlloc(&host_only, kBytes, cudaHostAllocMapped), "cudaHostAlloc(cudaHostAllocMapped)") ||
      !check_rt(cudaHostAlloc(&out, kBytes, cudaHostAllocMapped | cudaHostAllocPortable),
                "cudaHostAlloc(cudaHostAllocMapped | cudaHostAllocPortable)"))
    return false;
  buf.a.host = static_cast<unsigned*>(a);
  buf.out.host = static_cast<unsigned*>(out);
  buf.host_only = static_cast<unsigned*>(host_only);
  // aligned_alloc wants a size that is a multiple of the alignment.
  constexpr size_t kPage = 4096, kRounded = (kBytes + kPage - 1) / kPage * kPage;
  buf.b.host = static_cast<unsigned*>(std::aligned_alloc(kPage, kRounded));
  buf.total.host = static_cast<unsigned*>(std::aligned_alloc(kPage, kRounded));
  for (int i = 0; i < kN; ++i) buf.total.host[i] = static_cast<unsigned>(i * 11);  // before registering: kept
  if (!check_rt(cudaHostRegister(buf.b.host, kBytes, cudaHostRegisterMapped), "cudaHostRegister(b)") ||
      !check_rt(cudaHostRegister(buf.total.host, kBytes, cudaHostRegisterMapped), "cudaHostRegister(total)"))
    return false;
  return map(buf.a, "cudaHostGetDevicePointer(a)") && map(buf.b, "cudaHostGetDevicePointer(b)") &&
         map(buf.out, "cudaHostGetDevicePointer(out)") && map(buf.total, "cudaHostGetDevicePointer(total)");
}

// cudaHostGetFlags and cudaPointerGetAttributes on the host and device
// addresses of mapped buffers.
int check_queries(const Buffers& buf) {
  unsigned flags_a = 0, flags_out = 0;
  if (!check_rt(cudaHostGetFlags(&flags_a, buf.a.host), "cudaHostGetFlags(a)") ||
      !check_rt(cudaHostGetFlags(&flags_out, buf.out.host + 10), "cudaHostGetFlags(out + 10)"))
    return 2;
  if (!(flags_a & cudaHostAllocMapped) || (flags_out & (cudaHostAllocMapped | cudaHostAllocPortable)) !=
                                              (cudaHostAllocMapped | cudaHostAllocPortable)) {
    std::fprintf(stderr, "mapped_memory: cudaHostGetFlags: a %#x, out %#x\n", flags_a, flags_out);
    return 1;
  }
  for (const Mapped* m : {&buf.a, &buf.b, &buf.out, &buf.total}) {
    cudaPointerAttributes host{}, device{};
    if (!check_rt(cudaPointerGetAttributes(&host, m->host + 3), "cudaPointerGetAttributes(host)") ||
        !check_rt(cudaPointerGetAttributes(&device, m->device + 3), "cudaPointerGetAttributes(device)"))
      return 2;
    const bool host_ok = host.type == cudaMemoryTypeHost && host.hostPointer == m->host + 3 &&
                         host.devicePointer == m->device + 3;
    const bool device_ok = device.type == cudaMemoryTypeHost && device.hostPointer == m->host + 3 &&
                           device.devicePointer == m->device + 3;
    if (!host_ok || !device_ok) {
      std::fprintf(stderr,
                   "mapped_memory: cudaPointerGetAttributes: host address: type %d host %p device %p; "
                   "device address: type %d host %p device %p; expected host %p device %p\n",
                   static_cast<int>(host.type), host.hostPointer, host.devicePointer, static_cast<int>(device.type),
                   device.hostPointer, device.devicePointer, static_cast<void*>(m->host + 3),
                   static_cast<void*>(m->device + 3));
      return 1;
    }
  }
  return 0;
}

int one_iteration(const Buffers& buf, cudaStream_t stream, int iteration, std::vector<unsigned>& total) {
  const unsigned k = static_cast<unsigned>(iteration * 977 + 5);
  for (int i = 0; i < kN; ++i) {
    buf.a.host[i] = static_cast<unsigned>(i * 7 + iteration);
    buf.b.host[i] = static_cast<unsigned>(i * 13) ^ static_cast<unsigned>(iteration << 8);
  }
  mapped::combine<<<kGrid, kBlock, 0, stream>>>(buf.a.device, buf.b.device, buf.out.device, kN, k);
  mapped::accumulate<<<kGrid, kBlock, 0, stream>>>(buf.out.device, buf.total.device, kN);
  if (!check_rt(cudaGetLastError(), "<<<>>>")) return 2;
  for (int i = 0; i < kN; ++i) buf.host_only[i] = static_cast<unsigned>(i + iteration * kN);
  const bool whole_device = iteration % 2;
  if (!check_rt(whole_device ? cudaDeviceSynchronize() : cudaStreamSynchronize(stream),
                whole_device ? "cudaDeviceSynchronize" : "cudaStreamSynchronize"))
    return 2;
  for (int i = 0; i < kN; ++i) {
    const unsigned a = static_cast<unsigned>(i * 7 + iteration);
    const unsigned b = static_cast<unsigned>(i * 13) ^ static_cast<unsigned>(iteration << 8);
    const unsigned out = a * 3u + (b ^ k);
    total[i] = total[i] * 5u + out + static_cast<unsigned>(i);
    const unsigned host_only = static_cast<unsigned>(i + iteration * kN);
    if (buf.out.host[i] != out || buf.total.host[i] != total[i] || buf.a.host[i] != a || buf.b.host[i] != b ||
        buf.host_only[i] != host_only) {
      std::fprintf(stderr,
                   "mapped_memory: iteration %d, element %d: out %u (expected %u), total %u (expected %u), "
                   "inputs %u %u (written %u %u), host-only %u (written %u)\n",
                   iteration, i, buf.out.host[i], out, buf.total.host[i], total[i], buf.a.host[i], buf.b.host[i],
                   a, b, buf.host_only[i], host_only);
      return 1;
    }
  }
  return 0;
}

bool release(Buffers& buf) {
  const bool ok = check_rt(cudaHostUnregister(buf.b.host), "cudaHostUnregister(b)") &&
                  check_rt(cudaHostUnregister(buf.total.host), "cudaHostUnregister(total)") &&
                  check_rt(cudaFreeHost(buf.a.host), "cudaFreeHost(a)") &&
                  check_rt(cudaFreeHost(buf.out.host), "cudaFreeHost(out)") &&
                  check_rt(cudaFreeHost(buf.host_only), "cudaFreeHost(host_only)");
  std::free(buf.b.host);
  std::free(buf.total.host);
  return ok;
}

}  // namespace

int main() {
  examples::program = "mapped_memory";
  cudaStream_t stream = nullptr;
  Buffers buf;
  if (!check_rt(cudaStreamCreate(&stream), "cudaStreamCreate") || !allocate(buf)) return 2;
  if (const int rc = check_queries(buf)) return rc;
  std::vector<unsigned> total(kN);
  for (int i = 0; i < kN; ++i) total[i] = static_cast<unsigned>(i * 11);
  for (int iteration = 0; iteration < kIterations; ++iteration) {
    if (const int rc = one_iteration(buf, stream, iteration, total)) return rc;
  }
  if (!release(buf)) return 2;
  cudaStreamDestroy(stream);
  std::printf("mapped_memory: %d iterations through mapped and registered host memory, all checks passed\n",
              kIterations);
  return 0;
}

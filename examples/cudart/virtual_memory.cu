// virtual_memory: the driver's virtual memory management as PyTorch's
// expandable segments use it, reached through cudart
// (cudaGetDriverEntryPointByVersion). Reserves an address range, creates two
// physical chunks of the device's granularity, maps them back to back, sets
// read-write access, then runs a kernel over the whole range for several
// iterations (so that a replaying client replays them) between a copy up and
// a copy back that both cross from one chunk into the other; exact against a
// CPU reference. Each iteration also writes its number with
// cuStreamWriteValue32 and waits for it (a wait already satisfied) with
// cuStreamWaitValue32, in stream order; a cuStreamWriteValue64 and
// cuStreamWaitValue64 follow. Checks the address queries on mapped memory,
// then unmaps, releases and frees the range.
// Runs unchanged on a GPU or through RRTO's libcuda.so.1.
//
// Exit status: 0 every check passed, 1 a check failed, 2 an unexpected CUDA error.
#include <cuda.h>

#include <cstdio>
#include <vector>

#include "examples/cudart/cudart_util.h"
#include "virtual_memory_kernels.cu"

namespace {

using examples::check_rt;

constexpr unsigned kBlock = 256;
constexpr int kIterations = 8;
constexpr int kEdge = 64;

struct Driver {
  decltype(&cuMemGetAllocationGranularity) granularity = nullptr;
  decltype(&cuMemAddressReserve) reserve = nullptr;
  decltype(&cuMemAddressFree) address_free = nullptr;
  decltype(&cuMemCreate) create = nullptr;
  decltype(&cuMemRelease) release = nullptr;
  decltype(&cuMemMap) map = nullptr;
  decltype(&cuMemUnmap) unmap = nullptr;
  decltype(&cuMemSetAccess) set_access = nullptr;
  decltype(&cuMemGetAccess) get_access = nullptr;
  decltype(&cuMemRetainAllocationHandle) retain = nullptr;
  decltype(&cuMemGetAllocationPropertiesFromHandle) properties = nullptr;
  decltype(&cuMemGetAddressRange) address_range = nullptr;
  decltype(&cuStreamWriteValue32) write_value32 = nullptr;
  decltype(&cuStreamWaitValue32) wait_value32 = nullptr;
  decltype(&cuStreamWriteValue64) write_value64 = nullptr;
  decltype(&cuStreamWaitValue64) wait_value64 = nullptr;
};

template <typename F>
bool resolve(F& fn, const char* name) {
  void* p = nullptr;
  cudaDriverEntryPointQueryResult status = cudaDriverEntryPointSymbolNotFound;
  if (!check_rt(cudaGetDriverEntryPointByVersion(name, &p, 12000, cudaEnableDefault, &status), name)) return false;
  fn = reinterpret_cast<F>(p);
  return status == cudaDriverEntryPointSuccess && p;
}

bool resolve_all(Driver& d) {
  return resolve(d.granularity, "cuMemGetAllocationGranularity") && resolve(d.reserve, "cuMemAddressReserve") &&
         resolve(d.address_free, "cuMemAddressFree") && resolve(d.create, "cuMemCreate") &&
         resolve(d.release, "cuMemRelease") && resolve(d.map, "cuMemMap") && resolve(d.unmap, "cuMemUnmap") &&
         resolve(d.set_access, "cuMemSetAccess") && resolve(d.get_access, "cuMemGetAccess") &&
         resolve(d.retain, "cuMemRetainAllocationHandle") &&
         resolve(d.properties, "cuMemGetAllocationPropertiesFromHandle") &&
         resolve(d.address_range, "cuMemGetAddressRange") && resolve(d.write_value32, "cuStreamWriteValue32") &&
         resolve(d.wait_value32, "cuStreamWaitValue32") && resolve(d.write_value64, "cuStreamWriteValue64") &&
         resolve(d.wait_value64, "cuStreamWaitValue64");
}

bool check_cu(CUresult r, const char* call) {
  if (r == CUDA_SUCCESS) return true;
  std::fprintf(stderr, "%s: %s failed: %d\n", examples::program, call, static_cast<int>(r));
  return false;
}

bool expect(bool ok, const char* what) {
  if (!ok) std::fprintf(stderr, "%s: check failed: %s\n", examples::program, what);
  return ok;
}

CUmemAllocationProp device_memory() {
  CUmemAllocationProp prop{};
  prop.type = CU_MEM_ALLOCATION_TYPE_PINNED;
  prop.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
  prop.location.id = 0;
  return prop;
}

// The whole range, both chunks, through ordinary runtime calls and a kernel.
int run_kernels(const Driver& d, CUdeviceptr base, size_t bytes) {
  const int n = static_cast<int>(bytes / sizeof(unsigned));
  std::vector<unsigned> host(n), expected(n);
  for (int i = 0; i < n; ++i) host[i] = expected[i] = static_cast<unsigned>(i) * 2654435761u;
  auto* data = reinterpret_cast<unsigned*>(base);
  cudaStream_t stream = nullptr;
  if (!check_rt(cudaStreamCreate(&stream), "cudaStreamCreate") ||
      !check_rt(cudaMemcpy(data, host.data(), bytes, cudaMemcpyHostToDevice), "cudaMemcpy up"))
    return 2;
  // Each iteration writes and reads back the elements around the boundary of the chunks.
  const int edge = n / 2 - kEdge / 2;
  unsigned around_edge[kEdge + 1];
  for (int it = 0; it < kIterations; ++it) {
    // An iteration's input: new values around the boundary.
    for (int i = 0; i < kEdge; ++i) around_edge[i] = expected[edge + i] = static_cast<unsigned>(it * kEdge + i);
    if (!check_rt(cudaMemcpyAsync(data + edge, around_edge, kEdge * sizeof(unsigned), cudaMemcpyHostToDevice, stream),
                  "cudaMemcpyAsync up across the chunks"))
      return 2;
    for (unsigned k : {0x9e3779b9u * static_cast<unsigned>(it + 1), 0x85ebca6bu ^ static_cast<unsigned>(it)}) {
      vmm::mix<<<(n + kBlock - 1) / kBlock, kBlock, 0, stream>>>(data, n, k);
      for (int i = 0; i < n; ++i) expected[i] = expected[i] * 7u + (static_cast<unsigned>(i) ^ k);
    }
    // The iteration's number, written and waited for in stream order, then
    // read back with the edge, from the word right after it.
    const auto flag = reinterpret_cast<CUdeviceptr>(data + edge + kEdge);
    const auto number = static_cast<cuuint32_t>(it + 1);
    expected[edge + kEdge] = number;
    if (!check_rt(cudaGetLastError(), "<<<>>>") ||
        !check_cu(d.write_value32(stream, flag, number, 0), "cuStreamWriteValue32") ||
        !check_cu(d.wait_value32(stream, flag, number, CU_STREAM_WAIT_VALUE_EQ), "cuStreamWaitValue32 (EQ)") ||
        !check_cu(d.wait_value32(stream, flag, number - 1, CU_STREAM_WAIT_VALUE_GEQ), "cuStreamWaitValue32 (GEQ)") ||
        !check_rt(cudaMemcpyAsync(around_edge, data + edge, sizeof around_edge, cudaMemcpyDeviceToHost, stream),
                  "cudaMemcpyAsync back across the chunks") ||
        !check_rt(cudaStreamSynchronize(stream), "cudaStreamSynchronize"))
      return 2;
    for (int i = 0; i <= kEdge; ++i)
      if (around_edge[i] != expected[edge + i]) {
        std::fprintf(stderr, "%s: iteration %d: element %d is %u, expected %u\n", examples::program, it, edge + i,
                     around_edge[i], expected[edge + i]);
        return 1;
      }
  }
  // A 64-bit write over the last two elements, which lie in the second chunk.
  const cuuint64_t wide = 0x0123456789abcdefull;
  if (!check_cu(d.write_value64(stream, reinterpret_cast<CUdeviceptr>(data + n - 2), wide, 0), "cuStreamWriteValue64") ||
      !check_cu(d.wait_value64(stream, reinterpret_cast<CUdeviceptr>(data + n - 2), wide, CU_STREAM_WAIT_VALUE_EQ),
                "cuStreamWaitValue64"))
    return 2;
  expected[n - 2] = static_cast<unsigned>(wide);
  expected[n - 1] = static_cast<unsigned>(wide >> 32);
  if (!check_rt(cudaMemcpy(host.data(), data, bytes, cudaMemcpyDeviceToHost), "cudaMemcpy back") ||
      !check_rt(cudaStreamDestroy(stream), "cudaStreamDestroy"))
    return 2;
  for (int i = 0; i < n; ++i)
    if (host[i] != expected[i]) {
      std::fprintf(stderr, "%s: element %d is %u, expected %u\n", examples::program, i, host[i], expected[i]);
      return 1;
    }
  return 0;
}

// What the driver says of memory mapped at `second`, the second chunk `h2`.
bool queries_agree(const Driver& d, CUdeviceptr second, size_t chunk, CUmemGenericAllocationHandle h2) {
  CUdeviceptr range_base = 0;
  size_t range_size = 0;
  unsigned long long flags = 0;
  CUmemLocation device{CU_MEM_LOCATION_TYPE_DEVICE, 0};
  CUmemGenericAllocationHandle retained = 0;
  CUmemAllocationProp prop{};
  bool ok = check_cu(d.address_range(&range_base, &range_size, second + 4), "cuMemGetAddressRange") &&
            expect(range_base == second && range_size == chunk, "cuMemGetAddressRange gives the second chunk");
  ok = ok && check_cu(d.get_access(&flags, &device, second), "cuMemGetAccess") &&
       expect(flags == CU_MEM_ACCESS_FLAGS_PROT_READWRITE, "mapped memory is read-write");
  ok = ok && check_cu(d.retain(&retained, reinterpret_cast<void*>(second + 8)), "cuMemRetainAllocationHandle") &&
       expect(retained == h2, "the retained handle is the second chunk's") &&
       check_cu(d.release(retained), "cuMemRelease of the retained handle");
  ok = ok && check_cu(d.properties(&prop, h2), "cuMemGetAllocationPropertiesFromHandle") &&
       expect(prop.type == CU_MEM_ALLOCATION_TYPE_PINNED && prop.location.type == CU_MEM_LOCATION_TYPE_DEVICE,
              "the chunk's properties are those it was created with");
  cudaPointerAttributes attributes{};
  ok = ok && check_rt(cudaPointerGetAttributes(&attributes, reinterpret_cast<void*>(second)),
                      "cudaPointerGetAttributes") &&
       expect(attributes.type == cudaMemoryTypeDevice, "mapped memory is device memory");
  return ok;
}

int run(const Driver& d) {
  const CUmemAllocationProp prop = device_memory();
  size_t chunk = 0;
  if (!check_cu(d.granularity(&chunk, &prop, CU_MEM_ALLOC_GRANULARITY_RECOMMENDED), "cuMemGetAllocationGranularity"))
    return 2;
  CUdeviceptr base = 0;
  CUmemGenericAllocationHandle h1 = 0, h2 = 0;
  if (!check_cu(d.reserve(&base, 4 * chunk, 0, 0, 0), "cuMemAddressReserve") ||
      !check_cu(d.create(&h1, chunk, &prop, 0), "cuMemCreate") ||
      !check_cu(d.create(&h2, chunk, &prop, 0), "cuMemCreate") ||
      !check_cu(d.map(base, chunk, 0, h1, 0), "cuMemMap of the first chunk") ||
      !check_cu(d.map(base + chunk, chunk, 0, h2, 0), "cuMemMap of the second chunk"))
    return 2;
  CUmemAccessDesc access{};
  access.location = prop.location;
  access.flags = CU_MEM_ACCESS_FLAGS_PROT_READWRITE;
  if (!check_cu(d.set_access(base, 2 * chunk, &access, 1), "cuMemSetAccess")) return 2;
  if (const int r = run_kernels(d, base, 2 * chunk)) return r;
  if (!queries_agree(d, base + chunk, chunk, h2)) return 1;
  if (!check_cu(d.unmap(base, 2 * chunk), "cuMemUnmap") || !check_cu(d.release(h1), "cuMemRelease") ||
      !check_cu(d.release(h2), "cuMemRelease") || !check_cu(d.address_free(base, 4 * chunk), "cuMemAddressFree"))
    return 2;
  return 0;
}

}  // namespace

int main() {
  examples::program = "virtual_memory";
  if (!check_rt(cudaFree(nullptr), "cudaFree(nullptr)")) return 2;
  Driver driver;
  if (!resolve_all(driver)) return 2;
  if (const int r = run(driver)) return r;
  std::printf("%s: all checks passed\n", examples::program);
  return 0;
}

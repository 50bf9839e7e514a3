// cuGetProcAddress: the generated table against what stock cudart 13 asks for
// (data/cudart13-getprocaddress-requests.txt, measured: name, version, flags
// -> the variant the real driver hands out), then the built libcuda.so.1
// against the same list: it hands out every variant the table names, the
// entry points it does not implement as stubs.
#include <cuda.h>
#include <dlfcn.h>
#include <doctest/doctest.h>

#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "client/proc_address/proc_address_table.h"

using rrto::client::find_proc_variant;
using rrto::client::ProcStatus;

namespace {

struct Request {
  std::string name;
  int version = 0;
  unsigned flags = 0;
  std::string expected;  // the variant's symbol; empty: no such entry point
  std::string line;
};

// Lines look like  "cuMemcpyHtoD", ver=7000, flags=0x2 -> cuMemcpyHtoD_v2_ptds[->note]
std::vector<Request> read_requests() {
  std::ifstream in(RRTO_REQUESTS_FILE);
  REQUIRE(in.good());
  const std::regex line_format(R"re("(\w*)", ver=(\d+), flags=0x([0-9a-f]+) -> (\w+).*)re");
  std::vector<Request> requests;
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    REQUIRE_MESSAGE(std::regex_match(line, m, line_format), line);
    requests.push_back({m[1], std::stoi(m[2]), static_cast<unsigned>(std::stoul(m[3], nullptr, 16)),
                        m[4] == "NOT" ? "" : std::string(m[4]), line});
  }
  return requests;
}

using GetProcAddress = CUresult (*)(const char*, void**, int, cuuint64_t, CUdriverProcAddressQueryResult*);

}  // namespace

TEST_CASE("every name stock cudart 13 asks for selects the variant the driver gives") {
  const std::vector<Request> requests = read_requests();
  CHECK(requests.size() == 440);
  for (const Request& r : requests) {
    const auto found = find_proc_variant(r.name, r.version, r.flags & CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM);
    if (r.expected.empty()) {
      CHECK_MESSAGE(found.status == ProcStatus::NotFound, r.line);
    } else {
      REQUIRE_MESSAGE(found.status == ProcStatus::Found, r.line);
      CHECK_MESSAGE(std::string(found.symbol) == r.expected, r.line);
    }
  }
}

TEST_CASE("the version picks the signature") {
  CHECK(std::string(find_proc_variant("cuCtxCreate", 3020, false).symbol) == "cuCtxCreate_v2");
  CHECK(std::string(find_proc_variant("cuCtxCreate", 11039, false).symbol) == "cuCtxCreate_v2");
  CHECK(std::string(find_proc_variant("cuCtxCreate", 11040, false).symbol) == "cuCtxCreate_v3");
  CHECK(std::string(find_proc_variant("cuCtxCreate", 13000, false).symbol) == "cuCtxCreate_v4");
  CHECK(std::string(find_proc_variant("cuCtxSynchronize", 12090, false).symbol) == "cuCtxSynchronize");
  // A runtime newer than the table asks for versions the table has not seen.
  CHECK(std::string(find_proc_variant("cuCtxSynchronize", 13020, false).symbol) == "cuCtxSynchronize_v2");
  CHECK(find_proc_variant("cuLibraryLoadData", 11080, false).status == ProcStatus::VersionNotSufficient);
  CHECK(find_proc_variant("cuNoSuchThing", 13000, false).status == ProcStatus::NotFound);
  CHECK(find_proc_variant("", 13000, false).status == ProcStatus::NotFound);
}

TEST_CASE("the per-thread flag selects _ptds/_ptsz only where they exist") {
  CHECK(std::string(find_proc_variant("cuMemcpyHtoD", 7000, true).symbol) == "cuMemcpyHtoD_v2_ptds");
  CHECK(std::string(find_proc_variant("cuMemcpyHtoD", 7000, false).symbol) == "cuMemcpyHtoD_v2");
  // Before per-thread streams existed there is only the legacy form.
  CHECK(std::string(find_proc_variant("cuMemcpyHtoD", 6050, true).symbol) == "cuMemcpyHtoD_v2");
  CHECK(std::string(find_proc_variant("cuStreamBeginCapture", 10010, true).symbol) == "cuStreamBeginCapture_v2_ptsz");
  // No stream, no per-thread variant.
  CHECK(std::string(find_proc_variant("cuInit", 13000, true).symbol) == "cuInit");
}

namespace {

struct Libcuda {
  void* handle = dlopen(RRTO_LIBCUDA, RTLD_NOW | RTLD_LOCAL);
  GetProcAddress get = handle ? reinterpret_cast<GetProcAddress>(dlsym(handle, "cuGetProcAddress_v2")) : nullptr;
};

}  // namespace

TEST_CASE("libcuda.so.1 hands out every variant the table names") {
  const Libcuda lib;
  REQUIRE_MESSAGE(lib.handle != nullptr, dlerror());
  REQUIRE(reinterpret_cast<void*>(lib.get) != nullptr);

  for (const Request& r : read_requests()) {
    void* f = reinterpret_cast<void*>(1);
    auto status = static_cast<CUdriverProcAddressQueryResult>(-1);
    const CUresult rc = lib.get(r.name.c_str(), &f, r.version, r.flags, &status);
    if (!r.expected.empty()) {
      CHECK_MESSAGE(rc == CUDA_SUCCESS, r.line);
      CHECK_MESSAGE(status == CU_GET_PROC_ADDRESS_SUCCESS, r.line);
      CHECK_MESSAGE(f == dlsym(lib.handle, r.expected.c_str()), r.line);
      CHECK_MESSAGE(f != nullptr, r.line);
    } else {
      CHECK_MESSAGE(rc == CUDA_ERROR_NOT_FOUND, r.line);
      CHECK_MESSAGE(status == CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND, r.line);
      CHECK_MESSAGE(f == nullptr, r.line);
    }
  }
  // What cudart needs to start, load kernels and run the example CNN.
  for (const char* name :
       {"cuInit", "cuGetExportTable", "cuLibraryLoadData", "cuLibraryGetKernel", "cuLaunchKernel_ptsz",
        "cuCtxSynchronize_v2", "cuMemcpyHtoDAsync_v2_ptsz", "cuMemAllocAsync_ptsz"})
    CHECK_MESSAGE(dlsym(lib.handle, name) != nullptr, name);

  void* f = nullptr;
  auto status = CU_GET_PROC_ADDRESS_SUCCESS;
  CHECK(lib.get("cuLibraryLoadData", &f, 11080, 0, &status) == CUDA_ERROR_NOT_FOUND);
  CHECK(status == CU_GET_PROC_ADDRESS_VERSION_NOT_SUFFICIENT);
  CHECK(lib.get("cuNoSuchThing", &f, 13000, 0, &status) == CUDA_ERROR_NOT_FOUND);
  CHECK(status == CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND);
  CHECK(lib.get("cuInit", &f, 13000, 0x80, &status) == CUDA_ERROR_INVALID_VALUE);
  CHECK(lib.get(nullptr, &f, 13000, 0, &status) == CUDA_ERROR_INVALID_VALUE);
  // The 4-argument form answers the same.
  const auto get_v1 =
      reinterpret_cast<CUresult (*)(const char*, void**, int, cuuint64_t)>(dlsym(lib.handle, "cuGetProcAddress"));
  REQUIRE(reinterpret_cast<void*>(get_v1) != nullptr);
  CHECK(get_v1("cuCtxCreate", &f, 12050, 0) == CUDA_SUCCESS);
  CHECK(f == dlsym(lib.handle, "cuCtxCreate_v4"));
}

TEST_CASE("an entry point the client does not implement resolves, with its version rules, to a stub") {
  const Libcuda lib;
  REQUIRE_MESSAGE(lib.handle != nullptr, dlerror());
  void* f = nullptr;
  auto status = CU_GET_PROC_ADDRESS_SUCCESS;
  // cuMemCreate came with CUDA 10.2.
  CHECK(lib.get("cuMemCreate", &f, 10010, 0, &status) == CUDA_ERROR_NOT_FOUND);
  CHECK(status == CU_GET_PROC_ADDRESS_VERSION_NOT_SUFFICIENT);
  CHECK(f == nullptr);
  REQUIRE(lib.get("cuMemCreate", &f, 12000, 0, &status) == CUDA_SUCCESS);
  CHECK(status == CU_GET_PROC_ADDRESS_SUCCESS);
  CHECK(f == dlsym(lib.handle, "cuMemCreate"));
  // The same name at a later signature, and its per-thread variant.
  REQUIRE(lib.get("cuStreamWriteValue32", &f, 12000, CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM, &status) ==
          CUDA_SUCCESS);
  CHECK(f == dlsym(lib.handle, "cuStreamWriteValue32_v2_ptsz"));

  // This process never calls cuInit (there is no server): the stub answers
  // as every entry point does before it.
  REQUIRE(lib.get("cuMemExportToShareableHandle", &f, 12000, 0, &status) == CUDA_SUCCESS);
  int fd = -1;
  CHECK(reinterpret_cast<decltype(&cuMemExportToShareableHandle)>(f)(&fd, 0, CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR,
                                                                      0) == CUDA_ERROR_NOT_INITIALIZED);
  // An implemented entry point still resolves to its implementation (one
  // that works before cuInit, where a stub would not).
  REQUIRE(lib.get("cuGetErrorString", &f, 12000, 0, &status) == CUDA_SUCCESS);
  CHECK(f == dlsym(lib.handle, "cuGetErrorString"));
  const char* text = nullptr;
  CHECK(reinterpret_cast<decltype(&cuGetErrorString)>(f)(CUDA_ERROR_NOT_SUPPORTED, &text) == CUDA_SUCCESS);
  CHECK(text != nullptr);
}

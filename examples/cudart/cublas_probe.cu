// Creates a cuBLAS handle and sets it up as frameworks do (stream, workspace,
// math mode), checking every status. cublasCreate reads the module global
// cublas::internal::deviceConstants, so this needs the server to serve
// globals out of cuBLAS's own module image. With --cudnn it also creates and
// destroys a cuDNN handle (cudnnCreate maps host memory for the device), and
// says so, or that the program was built without cuDNN. Prints
// "cublas_probe: all checks passed" and exits 0, or names the first call that
// failed and exits 1.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdio>
#include <cstring>

#include "examples/cudart/cudart_util.h"

#ifdef RRTO_PROBE_CUDNN
#include <cudnn.h>
#endif

namespace {

bool check_cublas(cublasStatus_t s, const char* call) {
  if (s == CUBLAS_STATUS_SUCCESS) return true;
  std::fprintf(stderr, "%s: %s failed: %s (%d)\n", examples::program, call, cublasGetStatusName(s),
               static_cast<int>(s));
  return false;
}

bool probe_cublas() {
  cublasHandle_t handle = nullptr;
  if (!check_cublas(cublasCreate(&handle), "cublasCreate")) return false;
  cudaStream_t stream = nullptr;
  if (!examples::check_rt(cudaStreamCreate(&stream), "cudaStreamCreate")) return false;
  constexpr size_t kWorkspaceBytes = 4 << 20;
  void* workspace = nullptr;
  if (!examples::check_rt(cudaMalloc(&workspace, kWorkspaceBytes), "cudaMalloc")) return false;
  int version = 0;
  const bool ok = check_cublas(cublasSetStream(handle, stream), "cublasSetStream") &&
                  check_cublas(cublasSetWorkspace(handle, workspace, kWorkspaceBytes), "cublasSetWorkspace") &&
                  check_cublas(cublasGetVersion(handle, &version), "cublasGetVersion") &&
                  check_cublas(cublasSetMathMode(handle, CUBLAS_TF32_TENSOR_OP_MATH), "cublasSetMathMode") &&
                  check_cublas(cublasDestroy(handle), "cublasDestroy");
  if (!ok) return false;
  if (version < 130000) {
    std::fprintf(stderr, "%s: cublasGetVersion gave %d, not a cuBLAS 13\n", examples::program, version);
    return false;
  }
  return examples::check_rt(cudaFree(workspace), "cudaFree") &&
         examples::check_rt(cudaStreamDestroy(stream), "cudaStreamDestroy");
}

#ifdef RRTO_PROBE_CUDNN
bool probe_cudnn() {
  cudnnHandle_t handle = nullptr;
  const cudnnStatus_t created = cudnnCreate(&handle);
  if (created != CUDNN_STATUS_SUCCESS) {
    std::fprintf(stderr, "%s: cudnnCreate failed: %s (%d)\n", examples::program, cudnnGetErrorString(created),
                 static_cast<int>(created));
    return false;
  }
  if (cudnnDestroy(handle) != CUDNN_STATUS_SUCCESS) {
    std::fprintf(stderr, "%s: cudnnDestroy failed\n", examples::program);
    return false;
  }
  std::printf("cublas_probe: cudnnCreate and cudnnDestroy passed\n");
  return true;
}
#endif

}  // namespace

int main(int argc, char** argv) {
  examples::program = "cublas_probe";
  bool ok = probe_cublas();
#ifdef RRTO_PROBE_CUDNN
  if (ok && argc > 1 && std::strcmp(argv[1], "--cudnn") == 0) ok = probe_cudnn();
#else
  if (ok && argc > 1 && std::strcmp(argv[1], "--cudnn") == 0)
    std::printf("cublas_probe: built without cuDNN, --cudnn ignored\n");
#endif
  if (!ok) return 1;
  std::printf("cublas_probe: all checks passed\n");
  return 0;
}

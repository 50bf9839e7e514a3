// A cuBLAS SGEMM, for tests/gpu/run.sh: run once on the GPU directly and once
// through RRTO's libcuda.so.1, the two outputs must be equal. Writes C as raw
// floats to the file named on the command line.
//
//   cublas_sgemm OUTPUT.bin
//
// Exit status: 0 done, 2 a CUDA or cuBLAS error, 3 bad usage.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdio>
#include <vector>

namespace {

constexpr int kM = 256, kN = 192, kK = 320;

bool ok(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return true;
  std::fprintf(stderr, "cublas_sgemm: %s failed: %s\n", what, cudaGetErrorName(e));
  return false;
}

bool ok(cublasStatus_t s, const char* what) {
  if (s == CUBLAS_STATUS_SUCCESS) return true;
  std::fprintf(stderr, "cublas_sgemm: %s failed: %s\n", what, cublasGetStatusName(s));
  return false;
}

// Small integers: every product and sum is exact, whatever the kernel's order.
void fill(std::vector<float>& v, int seed) {
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(static_cast<int>((i * 7 + seed) % 11) - 5);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: cublas_sgemm OUTPUT.bin\n");
    return 3;
  }
  std::vector<float> a(kM * kK), b(kK * kN), c(kM * kN);
  fill(a, 1);
  fill(b, 2);
  float *da = nullptr, *db = nullptr, *dc = nullptr;
  cublasHandle_t handle = nullptr;
  const float alpha = 1.0f, beta = 0.0f;
  if (!ok(cudaMalloc(&da, a.size() * sizeof(float)), "cudaMalloc") ||
      !ok(cudaMalloc(&db, b.size() * sizeof(float)), "cudaMalloc") ||
      !ok(cudaMalloc(&dc, c.size() * sizeof(float)), "cudaMalloc") ||
      !ok(cudaMemcpy(da, a.data(), a.size() * sizeof(float), cudaMemcpyHostToDevice), "cudaMemcpy") ||
      !ok(cudaMemcpy(db, b.data(), b.size() * sizeof(float), cudaMemcpyHostToDevice), "cudaMemcpy") ||
      !ok(cublasCreate(&handle), "cublasCreate") ||
      !ok(cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, kM, kN, kK, &alpha, da, kM, db, kK, &beta, dc, kM),
          "cublasSgemm") ||
      !ok(cudaMemcpy(c.data(), dc, c.size() * sizeof(float), cudaMemcpyDeviceToHost), "cudaMemcpy(C)"))
    return 2;
  cublasDestroy(handle);
  FILE* out = std::fopen(argv[1], "wb");
  if (!out || std::fwrite(c.data(), sizeof(float), c.size(), out) != c.size()) {
    std::fprintf(stderr, "cublas_sgemm: cannot write %s\n", argv[1]);
    return 3;
  }
  std::fclose(out);
  std::printf("cublas_sgemm: %dx%dx%d, C[0]=%g C[last]=%g\n", kM, kN, kK, c.front(), c.back());
  return 0;
}

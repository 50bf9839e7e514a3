// A cuDNN forward convolution, for tests/gpu/run.sh: run once on the GPU
// directly and once through RRTO's libcuda.so.1, the two outputs must be
// equal. Small integer inputs and one fixed algorithm (implicit GEMM, no
// workspace): every product and sum is exact whatever the kernel's order.
// Writes the output tensor as raw floats to the file named on the command line.
//
//   cudnn_conv OUTPUT.bin
//
// Exit status: 0 done, 2 a CUDA or cuDNN error, 3 bad usage.
#include <cuda_runtime.h>
#include <cudnn.h>

#include <cstdio>
#include <vector>

namespace {

// NCHW input 2x8x32x32, 16 filters of 8x3x3, padding 1, stride 1.
constexpr int kN = 2, kC = 8, kH = 32, kW = 32, kK = 16, kR = 3, kS = 3;

bool ok(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return true;
  std::fprintf(stderr, "cudnn_conv: %s failed: %s\n", what, cudaGetErrorName(e));
  return false;
}

bool ok(cudnnStatus_t s, const char* what) {
  if (s == CUDNN_STATUS_SUCCESS) return true;
  std::fprintf(stderr, "cudnn_conv: %s failed: %s\n", what, cudnnGetErrorString(s));
  return false;
}

void fill(std::vector<float>& v, int seed) {
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(static_cast<int>((i * 5 + seed) % 7) - 3);
}

struct Descriptors {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  int out_n = 0, out_c = 0, out_h = 0, out_w = 0;
};

bool describe(Descriptors& d) {
  return ok(cudnnCreateTensorDescriptor(&d.x), "cudnnCreateTensorDescriptor") &&
         ok(cudnnCreateTensorDescriptor(&d.y), "cudnnCreateTensorDescriptor") &&
         ok(cudnnCreateFilterDescriptor(&d.w), "cudnnCreateFilterDescriptor") &&
         ok(cudnnCreateConvolutionDescriptor(&d.conv), "cudnnCreateConvolutionDescriptor") &&
         ok(cudnnSetTensor4dDescriptor(d.x, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, kN, kC, kH, kW),
            "cudnnSetTensor4dDescriptor") &&
         ok(cudnnSetFilter4dDescriptor(d.w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, kK, kC, kR, kS),
            "cudnnSetFilter4dDescriptor") &&
         ok(cudnnSetConvolution2dDescriptor(d.conv, 1, 1, 1, 1, 1, 1, CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
            "cudnnSetConvolution2dDescriptor") &&
         ok(cudnnGetConvolution2dForwardOutputDim(d.conv, d.x, d.w, &d.out_n, &d.out_c, &d.out_h, &d.out_w),
            "cudnnGetConvolution2dForwardOutputDim") &&
         ok(cudnnSetTensor4dDescriptor(d.y, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, d.out_n, d.out_c, d.out_h, d.out_w),
            "cudnnSetTensor4dDescriptor");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: cudnn_conv OUTPUT.bin\n");
    return 3;
  }
  cudnnHandle_t handle = nullptr;
  Descriptors d;
  if (!ok(cudnnCreate(&handle), "cudnnCreate") || !describe(d)) return 2;
  std::vector<float> x(size_t{kN} * kC * kH * kW), w(size_t{kK} * kC * kR * kS);
  std::vector<float> y(static_cast<size_t>(d.out_n) * d.out_c * d.out_h * d.out_w);
  fill(x, 1);
  fill(w, 2);
  float *dx = nullptr, *dw = nullptr, *dy = nullptr;
  const float alpha = 1.0f, beta = 0.0f;
  if (!ok(cudaMalloc(&dx, x.size() * sizeof(float)), "cudaMalloc") ||
      !ok(cudaMalloc(&dw, w.size() * sizeof(float)), "cudaMalloc") ||
      !ok(cudaMalloc(&dy, y.size() * sizeof(float)), "cudaMalloc") ||
      !ok(cudaMemcpy(dx, x.data(), x.size() * sizeof(float), cudaMemcpyHostToDevice), "cudaMemcpy") ||
      !ok(cudaMemcpy(dw, w.data(), w.size() * sizeof(float), cudaMemcpyHostToDevice), "cudaMemcpy") ||
      !ok(cudnnConvolutionForward(handle, &alpha, d.x, dx, d.w, dw, d.conv,
                                  CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, nullptr, 0, &beta, d.y, dy),
          "cudnnConvolutionForward") ||
      !ok(cudaMemcpy(y.data(), dy, y.size() * sizeof(float), cudaMemcpyDeviceToHost), "cudaMemcpy"))
    return 2;
  FILE* out = std::fopen(argv[1], "wb");
  if (!out || std::fwrite(y.data(), sizeof(float), y.size(), out) != y.size() || std::fclose(out) != 0) {
    std::fprintf(stderr, "cudnn_conv: cannot write %s\n", argv[1]);
    return 2;
  }
  cudnnDestroyTensorDescriptor(d.x);
  cudnnDestroyTensorDescriptor(d.y);
  cudnnDestroyFilterDescriptor(d.w);
  cudnnDestroyConvolutionDescriptor(d.conv);
  cudnnDestroy(handle);
  cudaFree(dx);
  cudaFree(dw);
  cudaFree(dy);
  std::printf("cudnn_conv: %zu outputs\n", y.size());
  return 0;
}

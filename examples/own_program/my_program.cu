// A single-file runtime-API program, as a CUDA programmer writes one: kernels
// launched with <<<>>>, cudaMalloc / cudaMemcpy, static cudart. Each round
// uploads new inputs, runs the kernels and checks every output against a CPU
// reference, bit for bit.
//
// Exit status: 0 every output matches, 1 a mismatch, 2 a CUDA error.
#include <cuda_runtime.h>

#include <cstdio>
#include <cstring>
#include <vector>

#include "my_kernels.cuh"

namespace {

constexpr int kN = 1000;
constexpr int kRounds = 10;
constexpr int kBlock = 128;
constexpr int kGrid = (kN + kBlock - 1) / kBlock;

bool ok(cudaError_t e, const char* call) {
  if (e == cudaSuccess) return true;
  std::fprintf(stderr, "my_program: %s failed: %s (%s)\n", call, cudaGetErrorName(e), cudaGetErrorString(e));
  return false;
}

template <typename T>
bool same(const char* what, int round, const std::vector<T>& got, const std::vector<T>& want) {
  for (size_t i = 0; i < want.size(); ++i) {
    if (std::memcmp(&got[i], &want[i], sizeof(T)) != 0) {
      std::fprintf(stderr, "my_program: round %d: %s[%zu] is %.9g, the CPU reference says %.9g\n", round, what, i,
                   static_cast<double>(got[i]), static_cast<double>(want[i]));
      return false;
    }
  }
  return true;
}

}  // namespace

int main() {
  const physics::Affine params{1.5f, -0.75f, kN};
  float *x = nullptr, *y = nullptr, *z = nullptr;
  int *a = nullptr, *b = nullptr, *c = nullptr;
  if (!ok(cudaMalloc(&x, kN * sizeof(float)), "cudaMalloc") || !ok(cudaMalloc(&y, kN * sizeof(float)), "cudaMalloc") ||
      !ok(cudaMalloc(&z, kN * sizeof(float)), "cudaMalloc") || !ok(cudaMalloc(&a, kN * sizeof(int)), "cudaMalloc") ||
      !ok(cudaMalloc(&b, kN * sizeof(int)), "cudaMalloc") || !ok(cudaMalloc(&c, kN * sizeof(int)), "cudaMalloc"))
    return 2;

  std::vector<float> hx(kN), hy(kN), hz(kN), want_y(kN), want_z(kN);
  std::vector<int> ha(kN), hb(kN), hc(kN), want_c(kN);
  for (int round = 0; round < kRounds; ++round) {
    for (int i = 0; i < kN; ++i) {
      hx[i] = static_cast<float>((i * 7 + round * 13) % 101) * 0.125f - 4.0f;
      ha[i] = i * 3 - round;
      hb[i] = round * 1000 - i;
      want_y[i] = hx[i] * params.scale + params.offset;
      want_y[i] = want_y[i] * want_y[i];
      want_z[i] = want_y[i] + hx[i];
      want_c[i] = ha[i] + hb[i];
    }
    if (!ok(cudaMemcpy(x, hx.data(), kN * sizeof(float), cudaMemcpyHostToDevice), "cudaMemcpy") ||
        !ok(cudaMemcpy(a, ha.data(), kN * sizeof(int), cudaMemcpyHostToDevice), "cudaMemcpy") ||
        !ok(cudaMemcpy(b, hb.data(), kN * sizeof(int), cudaMemcpyHostToDevice), "cudaMemcpy"))
      return 2;

    physics::affine<<<kGrid, kBlock>>>(x, y, params);
    square<<<kGrid, kBlock>>>(y, kN);
    add<float><<<kGrid, kBlock>>>(y, x, z, kN);
    add<int><<<kGrid, kBlock>>>(a, b, c, kN);
    if (!ok(cudaGetLastError(), "kernel launch")) return 2;

    if (!ok(cudaMemcpy(hy.data(), y, kN * sizeof(float), cudaMemcpyDeviceToHost), "cudaMemcpy") ||
        !ok(cudaMemcpy(hz.data(), z, kN * sizeof(float), cudaMemcpyDeviceToHost), "cudaMemcpy") ||
        !ok(cudaMemcpy(hc.data(), c, kN * sizeof(int), cudaMemcpyDeviceToHost), "cudaMemcpy"))
      return 2;
    if (!same("y", round, hy, want_y) || !same("z", round, hz, want_z) || !same("c", round, hc, want_c)) return 1;
  }

  for (void* p : {static_cast<void*>(x), static_cast<void*>(y), static_cast<void*>(z), static_cast<void*>(a),
                  static_cast<void*>(b), static_cast<void*>(c)})
    if (!ok(cudaFree(p), "cudaFree")) return 2;
  std::printf("my_program: %d rounds, every output matches the CPU reference\n", kRounds);
  return 0;
}

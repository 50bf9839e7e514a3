// pitched_2d: pitched memory and 2D copies. Each iteration uploads a matrix
// whose host rows are padded (host pitch != width) into a cudaMallocPitch
// array, runs a kernel over the pitched rows, copies them device to device
// into a second pitched array, clears sub-rectangles of it with
// cudaMemset2DAsync and cudaMemset2D, and copies it back into padded host
// rows. The outputs, padding included, must equal the CPU's exactly, in every
// iteration (so that a replaying client replays them). Also a host-to-host
// 2D copy. Runs unchanged on a GPU or through RRTO's libcuda.so.1.
//
// Exit status: 0 every check passed, 1 a check failed, 2 an unexpected CUDA error.
#include <cstdio>
#include <cstring>
#include <vector>

#include "examples/cudart/cudart_util.h"
#include "stream_order_kernels.cu"

namespace {

using examples::check_rt;

constexpr int kWidth = 100, kHeight = 37;            // ints
constexpr int kInPitch = kWidth + 13;                // ints, host input rows
constexpr int kOutPitch = kWidth + 5;                // ints, host output rows
constexpr int kRectX = 5, kRectY = 3, kRectWidth = 20, kRectHeight = 10;  // cleared with 0x7f bytes
constexpr int kZeroRow = 20, kZeroRows = 2;          // cleared with zeros
constexpr int kIterations = 6;
constexpr int kPadding = 0x55555555;                 // host padding, never written
constexpr size_t kRowBytes = kWidth * sizeof(int);

int input_at(int x, int y, int iteration) { return x * 7 + y * 13 + iteration; }

// What the output rows must hold after `iteration`.
std::vector<int> reference(int iteration) {
  std::vector<int> out(static_cast<size_t>(kOutPitch) * kHeight, kPadding);
  for (int y = 0; y < kHeight; ++y) {
    for (int x = 0; x < kWidth; ++x) {
      int v = 2 * input_at(x, y, iteration) + (iteration + 1) * y - x;
      if (x >= kRectX && x < kRectX + kRectWidth && y >= kRectY && y < kRectY + kRectHeight) v = 0x7f7f7f7f;
      if (y >= kZeroRow && y < kZeroRow + kZeroRows) v = 0;
      out[static_cast<size_t>(y) * kOutPitch + x] = v;
    }
  }
  return out;
}

struct Arrays {
  int *a = nullptr, *b = nullptr;
  size_t pitch_a = 0, pitch_b = 0;
};

int one_iteration(cudaStream_t stream, const Arrays& d, int iteration) {
  std::vector<int> in(static_cast<size_t>(kInPitch) * kHeight, -1);  // the padding must not travel
  for (int y = 0; y < kHeight; ++y)
    for (int x = 0; x < kWidth; ++x) in[static_cast<size_t>(y) * kInPitch + x] = input_at(x, y, iteration);
  std::vector<int> out(static_cast<size_t>(kOutPitch) * kHeight, kPadding);
  char* rect = reinterpret_cast<char*>(d.b) + kRectY * d.pitch_b + kRectX * sizeof(int);
  char* zero_rows = reinterpret_cast<char*>(d.b) + kZeroRow * d.pitch_b;
  const dim3 block(32, 8), grid((kWidth + 31) / 32, (kHeight + 7) / 8);
  if (!check_rt(cudaMemcpy2DAsync(d.a, d.pitch_a, in.data(), kInPitch * sizeof(int), kRowBytes, kHeight,
                                  cudaMemcpyHostToDevice, stream),
                "cudaMemcpy2DAsync (to the device)"))
    return 2;
  stream_order::pitched_affine<<<grid, block, 0, stream>>>(d.a, d.pitch_a, kWidth, kHeight, iteration + 1);
  if (!check_rt(cudaGetLastError(), "pitched_affine<<<>>>") ||
      !check_rt(cudaMemcpy2DAsync(d.b, d.pitch_b, d.a, d.pitch_a, kRowBytes, kHeight, cudaMemcpyDeviceToDevice, stream),
                "cudaMemcpy2DAsync (device to device)") ||
      !check_rt(cudaMemset2DAsync(rect, d.pitch_b, 0x7f, kRectWidth * sizeof(int), kRectHeight, stream),
                "cudaMemset2DAsync") ||
      !check_rt(cudaStreamSynchronize(stream), "cudaStreamSynchronize") ||
      !check_rt(cudaMemset2D(zero_rows, d.pitch_b, 0, kRowBytes, kZeroRows), "cudaMemset2D") ||
      !check_rt(cudaMemcpy2D(out.data(), kOutPitch * sizeof(int), d.b, d.pitch_b, kRowBytes, kHeight,
                             cudaMemcpyDeviceToHost),
                "cudaMemcpy2D (to the host)"))
    return 2;
  const std::vector<int> expected = reference(iteration);
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] != expected[i]) {
      std::fprintf(stderr, "pitched_2d: iteration %d: row %zu, column %zu is %d, expected %d\n", iteration,
                   i / kOutPitch, i % kOutPitch, out[i], expected[i]);
      return 1;
    }
  }
  return 0;
}

int host_to_host() {
  std::vector<int> from(static_cast<size_t>(kInPitch) * kHeight), to(static_cast<size_t>(kOutPitch) * kHeight, 0);
  for (size_t i = 0; i < from.size(); ++i) from[i] = static_cast<int>(i);
  if (!check_rt(cudaMemcpy2D(to.data(), kOutPitch * sizeof(int), from.data(), kInPitch * sizeof(int), kRowBytes,
                             kHeight, cudaMemcpyHostToHost),
                "cudaMemcpy2D (host to host)"))
    return 2;
  for (int y = 0; y < kHeight; ++y) {
    for (int x = 0; x < kOutPitch; ++x) {
      const int expected = x < kWidth ? from[static_cast<size_t>(y) * kInPitch + x] : 0;
      if (to[static_cast<size_t>(y) * kOutPitch + x] != expected) {
        std::fprintf(stderr, "pitched_2d: host-to-host copy: row %d, column %d\n", y, x);
        return 1;
      }
    }
  }
  return 0;
}

}  // namespace

int main() {
  examples::program = "pitched_2d";
  cudaStream_t stream = nullptr;
  Arrays d;
  if (!check_rt(cudaStreamCreate(&stream), "cudaStreamCreate") ||
      !check_rt(cudaMallocPitch(&d.a, &d.pitch_a, kRowBytes, kHeight), "cudaMallocPitch") ||
      !check_rt(cudaMallocPitch(&d.b, &d.pitch_b, kRowBytes, kHeight), "cudaMallocPitch"))
    return 2;
  if (d.pitch_a < kRowBytes || d.pitch_a % sizeof(int) != 0 || d.pitch_b != d.pitch_a) {
    std::fprintf(stderr, "pitched_2d: cudaMallocPitch gave pitches %zu and %zu for %zu-byte rows\n", d.pitch_a,
                 d.pitch_b, kRowBytes);
    return 1;
  }
  if (const int rc = host_to_host()) return rc;
  for (int iteration = 0; iteration < kIterations; ++iteration) {
    if (const int rc = one_iteration(stream, d, iteration)) return rc;
  }
  cudaFree(d.a);
  cudaFree(d.b);
  cudaStreamDestroy(stream);
  std::printf("pitched_2d: pitch %zu for %zu-byte rows, %d iterations exact, all checks passed\n", d.pitch_a,
              kRowBytes, kIterations);
  return 0;
}

// The kernels of rrto-perftest's workloads, written once: nvcc builds them
// into the fatbin of rrto-perf-workload, g++ into librrto_perf_kernels.so for
// the host backend (perf_host_kernels.cpp).
//
// The synthetic models run the launch sequences of tracegen's plans
// (ResNet-50, BERT-base, detector): the same kernel names, parameter lists,
// launch order and block sizes, so the number and shape of the operators are
// those of the real models. The arithmetic is not theirs: a kernel touches at
// most kPerfSpan elements of each buffer, with a few flops each, so that the
// host backend runs an inference in milliseconds. Every buffer a workload
// passes holds at least kPerfSpan floats, whatever the grid.
//
// extern "C": the kernels keep the plans' names, which are also the names the
// workload asks cuModuleGetFunction for.
#include <rrto/host_kernel.h>

#if RRTO_HOST_KERNEL_BUILD
#include <chrono>
#include <thread>
#endif

#define PERF_KERNEL extern "C" __global__
#define PERF_SPAN 4096  // kPerfSpan in workload_plan.h

// The thread's element, or -1 past the span.
__device__ __forceinline__ int perf_element() {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  return i < PERF_SPAN ? i : -1;
}
// Another element of the span: a fixed permutation (odd stride).
__device__ __forceinline__ int perf_shuffle(int i, int stride) { return (i * stride) & (PERF_SPAN - 1); }
__device__ __forceinline__ float perf_mix(float a, float b) { return 0.5f * a + 0.25f * b; }
__device__ __forceinline__ float perf_small(int v) { return static_cast<float>(v & 7) * 0.001f; }

// ---- launch_lat -------------------------------------------------------------------------

PERF_KERNEL void rrto_perf_noop(float* data, int n) {
  const int i = perf_element();
  if (i >= 0 && i < n) data[i] += 1.0f;
}

// ---- infer_lat --workload sleep ----------------------------------------------------------

// Waits `us` microseconds without computing. The host version sleeps, so that
// emulated devices can be busy without occupying a CPU core; on a GPU the
// calling thread polls the global timer.
__device__ __forceinline__ void perf_wait_us(int us) {
#if RRTO_HOST_KERNEL_BUILD
  std::this_thread::sleep_for(std::chrono::microseconds(us));
#elif defined(__CUDA_ARCH__)
  unsigned long long start = 0, now = 0;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(start));
  do {
    __nanosleep(1000);
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(now));
  } while (now - start < 1000ull * static_cast<unsigned long long>(us));
#endif
}

// Takes `us` microseconds (one thread waits), then out = 2 in + 1 over the
// first n elements, so that the outputs depend on the inputs.
PERF_KERNEL void rrto_perf_sleep(const float* in, float* out, int n, int us) {
  const int i = perf_element();
  if (i == 0 && us > 0) perf_wait_us(us);
  if (i >= 0 && i < n) out[i] = 2.0f * in[i] + 1.0f;
}

// ---- ResNet-50 and the detector's trunk --------------------------------------------------

PERF_KERNEL void im2col_kernel(const float* in, float* cols, int batch, int channels, int size, int k) {
  const int i = perf_element();
  if (i >= 0) cols[i] = in[perf_shuffle(i, 7)] + perf_small(channels + k);
}
PERF_KERNEL void sgemm_128x64_nn(const float* a, const float* b, float* c, int m, int n, int k, float alpha,
                                 float beta) {
  const int i = perf_element();
  if (i >= 0) c[i] = alpha * perf_mix(a[i], b[i]) + beta * c[i];
}
PERF_KERNEL void conv_epilogue_bias(const float* in, const float* bias, float* out, int n) {
  const int i = perf_element();
  if (i >= 0) out[i] = in[i] + 0.1f * bias[i];
}
PERF_KERNEL void bn_fw_inf_nchw(const float* in, float* out, const float* scale, const float* shift,
                                const float* mean, const float* var, int channels, float eps) {
  const int i = perf_element();
  if (i >= 0) out[i] = (in[i] - 0.1f * mean[i]) * (0.9f + 0.01f * scale[i]) + 0.01f * (shift[i] + var[i]) + eps;
}
PERF_KERNEL void relu_inplace(float* x, int n) {
  const int i = perf_element();
  if (i >= 0) x[i] = fmaxf(x[i], 0.0f);
}
PERF_KERNEL void max_pool2d_nchw(const float* in, float* out, int batch, int channels, int size, int k) {
  const int i = perf_element();
  if (i >= 0) out[i] = fmaxf(in[i], in[i ^ 1]);
}
PERF_KERNEL void implicit_gemm_1x1_splitk(const float* in, const float* w, float* partial, int out_channels,
                                          int pixels, int in_channels, int splits) {
  const int i = perf_element();
  if (i >= 0) partial[i] = perf_mix(in[i], w[i]) + perf_small(splits);
}
PERF_KERNEL void splitk_reduce(const float* partial, float* out, int n, int splits) {
  const int i = perf_element();
  if (i >= 0) out[i] = partial[i] + partial[i ^ 1] * 0.25f;
}
PERF_KERNEL void nchw_to_nhwc(const float* in, float* out, int batch, int channels, int height, int width) {
  const int i = perf_element();
  if (i >= 0) out[i] = in[perf_shuffle(i, 33)];
}
PERF_KERNEL void winograd_input_transform(const float* in, float* tiles, int channels, int height, int width) {
  const int i = perf_element();
  if (i >= 0) tiles[i] = in[i] - 0.5f * in[i ^ 2];
}
PERF_KERNEL void winograd_gemm_4x4(const float* tiles, const float* w, float* out_tiles, int in_channels,
                                   int out_channels, int size) {
  const int i = perf_element();
  if (i >= 0) out_tiles[i] = perf_mix(tiles[i], w[i]);
}
PERF_KERNEL void winograd_output_transform(const float* tiles, const float* bias, float* out, int channels,
                                           int height, int width) {
  const int i = perf_element();
  if (i >= 0) out[i] = tiles[i] + tiles[i ^ 2] * 0.5f + 0.1f * bias[i];
}
PERF_KERNEL void nhwc_to_nchw(const float* in, float* out, int batch, int channels, int height, int width) {
  const int i = perf_element();
  if (i >= 0) out[i] = in[perf_shuffle(i, 2979)];  // 33 * 2979 = 1 (mod 4096): undoes nchw_to_nhwc
}
PERF_KERNEL void strided_slice_copy(const float* in, float* out, int batch, int channels, int size, int stride) {
  const int i = perf_element();
  if (i >= 0) out[i] = in[perf_shuffle(i, 2 * (stride & 7) + 1)];
}
PERF_KERNEL void implicit_gemm_1x1_stride2(const float* in, const float* w, float* out, int out_channels,
                                           int pixels, int in_channels) {
  const int i = perf_element();
  if (i >= 0) out[i] = perf_mix(in[i], w[i]);
}
PERF_KERNEL void elementwise_add(const float* a, const float* b, float* out, int n) {
  const int i = perf_element();
  if (i >= 0) out[i] = 0.5f * (a[i] + b[i]);
}
PERF_KERNEL void adaptive_avg_pool2d(const float* in, float* out, int batch, int channels, int pixels) {
  const int i = perf_element();
  if (i >= 0) out[i] = 0.5f * (in[i] + in[i ^ 1]);
}
PERF_KERNEL void sgemm_32x32_tn(const float* a, const float* b, float* c, int m, int n, int k, float alpha,
                                float beta) {
  const int i = perf_element();
  if (i >= 0) c[i] = alpha * perf_mix(a[i], b[i]) + beta * c[i];
}
PERF_KERNEL void bias_add(const float* in, const float* bias, float* out, int n) {
  const int i = perf_element();
  if (i >= 0) out[i] = in[i] + 0.1f * bias[i];
}
PERF_KERNEL void softmax_warp_forward(const float* in, float* out, int batch, int classes, long long seed) {
  const int i = perf_element();
  if (i >= 0) out[i] = expf(-fabsf(in[i])) + static_cast<float>(seed & 15) * 0.001f;
}
PERF_KERNEL void argmax_reduce(const float* in, float* out, int batch, int classes) {
  const int i = perf_element();
  if (i >= 0) out[i] = in[i] >= in[i ^ 1] ? 1.0f : 0.0f;
}

// ---- BERT-base ----------------------------------------------------------------------------

PERF_KERNEL void cast_f32_to_f16(const float* in, float* out, int n) {
  const int i = perf_element();
  if (i >= 0) out[i] = in[i];
}
PERF_KERNEL void cast_f16_to_f32(const float* in, float* out, int n) {
  const int i = perf_element();
  if (i >= 0) out[i] = in[i];
}
PERF_KERNEL void hgemm_128x128_tn(const float* a, const float* b, float* c, int m, int n, int k, float alpha,
                                  float beta) {
  const int i = perf_element();
  if (i >= 0) c[i] = alpha * perf_mix(a[i], b[i]) + beta * c[i];
}
PERF_KERNEL void splitk_reduce_f16(const float* partial, float* out, int n, int splits) {
  const int i = perf_element();
  if (i >= 0) out[i] = partial[i] + partial[i ^ 1] * 0.25f;
}
PERF_KERNEL void add_bias(const float* in, const float* bias, float* out, int n) {
  const int i = perf_element();
  if (i >= 0) out[i] = in[i] + 0.1f * bias[i];
}
PERF_KERNEL void layer_norm_stats(const float* in, float* stats, int hidden, float eps) {
  const int i = perf_element();
  if (i >= 0) stats[i] = 0.5f * in[i] * in[i] + eps;
}
PERF_KERNEL void layer_norm_apply(const float* in, const float* stats, const float* gamma, const float* beta,
                                  float* out, int hidden) {
  const int i = perf_element();
  if (i >= 0) out[i] = tanhf(0.5f * in[i] - 0.01f * stats[i]) * (1.0f + 0.1f * gamma[i]) + 0.1f * beta[i];
}
PERF_KERNEL void view_copy_contiguous(const float* in, float* out, int n, int offset) {
  const int i = perf_element();
  if (i >= 0) out[i] = in[(i + offset) & (PERF_SPAN - 1)];
}
PERF_KERNEL void transpose_0213(const float* in, float* out, int batch, int d1, int d2, int d3) {
  const int i = perf_element();
  if (i >= 0) out[i] = in[perf_shuffle(i, 65)];
}
PERF_KERNEL void transpose_0132(const float* in, float* out, int batch, int d1, int d2, int d3) {
  const int i = perf_element();
  if (i >= 0) out[i] = in[perf_shuffle(i, 129)];
}
PERF_KERNEL void hgemm_batched_64x64(const float* a, const float* b, float* c, int batch, int heads, int seq,
                                     int dim, float alpha) {
  const int i = perf_element();
  if (i >= 0) c[i] = alpha * perf_mix(a[i], b[i]);
}
PERF_KERNEL void mul_scalar(const float* in, float* out, float scalar, int n) {
  const int i = perf_element();
  if (i >= 0) out[i] = tanhf(in[i] * scalar);  // bounded: the plan multiplies a mask by -10000
}
PERF_KERNEL void add_attention_mask(const float* scores, const float* mask, float* out, int seq, int heads) {
  const int i = perf_element();
  if (i >= 0) out[i] = scores[i] + 0.1f * mask[i & 127];
}
PERF_KERNEL void softmax_lastdim(const float* in, float* out, int columns, int rows) {
  const int i = perf_element();
  if (i >= 0) out[i] = expf(-fabsf(in[i]));
}
PERF_KERNEL void residual_add(const float* a, const float* b, float* out, int n) {
  const int i = perf_element();
  if (i >= 0) out[i] = 0.5f * (a[i] + b[i]);
}
PERF_KERNEL void gelu_erf(const float* in, float* out, int n) {
  const int i = perf_element();
  if (i >= 0) out[i] = 0.5f * in[i] * (1.0f + erff(in[i] * 0.70710678f));
}
PERF_KERNEL void embedding_gather(const float* ids, const float* table, float* out, int batch, int seq,
                                  long long position_offset) {
  const int i = perf_element();
  if (i < 0) return;
  const int row = static_cast<int>(fabsf(ids[i & 127]) * 1000.0f) + static_cast<int>(position_offset);
  out[i] = table[(row + i) & (PERF_SPAN - 1)];
}
PERF_KERNEL void add_embeddings(const float* word, const float* type, const float* position, float* out, int n) {
  const int i = perf_element();
  if (i >= 0) out[i] = (word[i] + type[i] + position[i]) * (1.0f / 3.0f);
}
PERF_KERNEL void gather_first_token(const float* in, float* out, int batch, int hidden) {
  const int i = perf_element();
  if (i >= 0) out[i] = in[i & 1023];
}
PERF_KERNEL void pooler_tanh(const float* in, float* out, int n) {
  const int i = perf_element();
  if (i >= 0) out[i] = tanhf(in[i]);
}
PERF_KERNEL void log_softmax(const float* in, float* out, int batch, int classes) {
  const int i = perf_element();
  if (i >= 0) out[i] = -log1pf(expf(-fabsf(in[i])));
}
PERF_KERNEL void argmax(const float* in, float* out, int batch, int classes) {
  const int i = perf_element();
  if (i >= 0) out[i] = in[i] >= in[i ^ 1] ? 1.0f : 0.0f;
}

// ---- the detector's head -----------------------------------------------------------------

PERF_KERNEL void sigmoid_fwd(const float* in, float* out, int n) {
  const int i = perf_element();
  if (i >= 0) out[i] = 1.0f / (1.0f + expf(-in[i]));
}
PERF_KERNEL void decode_boxes(const float* deltas, const float* anchors, float* boxes, int batch, int n) {
  const int i = perf_element();
  if (i >= 0) boxes[i] = 0.5f * deltas[i] + 0.1f * anchors[i & 127];
}
PERF_KERNEL void topk_per_image(const float* in, float* out, int batch, int n, int k) {
  const int i = perf_element();
  if (i >= 0) out[i] = fmaxf(in[i], in[(i + 1) & (PERF_SPAN - 1)]);
}
PERF_KERNEL void count_valid(const float* in, float* count, int batch, float threshold) {
  const int i = perf_element();
  if (i >= 0) count[i] = in[i] > threshold ? 1.0f : 0.0f;
}
PERF_KERNEL void nms_sort(const float* in, float* out, int batch, int n) {
  const int i = perf_element();
  if (i >= 0) out[i] = in[perf_shuffle(i, 5)];
}
PERF_KERNEL void nms_iou_mask(const float* boxes, float* mask, int n, float threshold) {
  const int i = perf_element();
  if (i >= 0) mask[i] = fabsf(boxes[i] - boxes[i ^ 1]) < threshold ? 1.0f : 0.0f;
}
PERF_KERNEL void nms_gather(const float* boxes, const float* mask, float* out, int n) {
  const int i = perf_element();
  if (i >= 0) out[i] = boxes[i] * mask[i];
}
PERF_KERNEL void roi_align(const float* features, const float* rois, float* out, int batch, int channels, int ph,
                           int pw) {
  const int i = perf_element();
  if (i >= 0) out[i] = perf_mix(features[i], rois[i]);
}
PERF_KERNEL void decode_detections(const float* scores, const float* weights, float* out, int batch, int n) {
  const int i = perf_element();
  if (i >= 0) out[i] = scores[i] + 0.1f * weights[i & 127];
}
PERF_KERNEL void gather_detections(const float* detections, const float* scores, float* out, int n) {
  const int i = perf_element();
  if (i >= 0) out[i] = detections[i] * scores[i];
}

RRTO_HOST_KERNEL(rrto_perf_noop);
RRTO_HOST_KERNEL(rrto_perf_sleep);
RRTO_HOST_KERNEL(im2col_kernel);
RRTO_HOST_KERNEL(sgemm_128x64_nn);
RRTO_HOST_KERNEL(conv_epilogue_bias);
RRTO_HOST_KERNEL(bn_fw_inf_nchw);
RRTO_HOST_KERNEL(relu_inplace);
RRTO_HOST_KERNEL(max_pool2d_nchw);
RRTO_HOST_KERNEL(implicit_gemm_1x1_splitk);
RRTO_HOST_KERNEL(splitk_reduce);
RRTO_HOST_KERNEL(nchw_to_nhwc);
RRTO_HOST_KERNEL(winograd_input_transform);
RRTO_HOST_KERNEL(winograd_gemm_4x4);
RRTO_HOST_KERNEL(winograd_output_transform);
RRTO_HOST_KERNEL(nhwc_to_nchw);
RRTO_HOST_KERNEL(strided_slice_copy);
RRTO_HOST_KERNEL(implicit_gemm_1x1_stride2);
RRTO_HOST_KERNEL(elementwise_add);
RRTO_HOST_KERNEL(adaptive_avg_pool2d);
RRTO_HOST_KERNEL(sgemm_32x32_tn);
RRTO_HOST_KERNEL(bias_add);
RRTO_HOST_KERNEL(softmax_warp_forward);
RRTO_HOST_KERNEL(argmax_reduce);
RRTO_HOST_KERNEL(cast_f32_to_f16);
RRTO_HOST_KERNEL(cast_f16_to_f32);
RRTO_HOST_KERNEL(hgemm_128x128_tn);
RRTO_HOST_KERNEL(splitk_reduce_f16);
RRTO_HOST_KERNEL(add_bias);
RRTO_HOST_KERNEL(layer_norm_stats);
RRTO_HOST_KERNEL(layer_norm_apply);
RRTO_HOST_KERNEL(view_copy_contiguous);
RRTO_HOST_KERNEL(transpose_0213);
RRTO_HOST_KERNEL(transpose_0132);
RRTO_HOST_KERNEL(hgemm_batched_64x64);
RRTO_HOST_KERNEL(mul_scalar);
RRTO_HOST_KERNEL(add_attention_mask);
RRTO_HOST_KERNEL(softmax_lastdim);
RRTO_HOST_KERNEL(residual_add);
RRTO_HOST_KERNEL(gelu_erf);
RRTO_HOST_KERNEL(embedding_gather);
RRTO_HOST_KERNEL(add_embeddings);
RRTO_HOST_KERNEL(gather_first_token);
RRTO_HOST_KERNEL(pooler_tanh);
RRTO_HOST_KERNEL(log_softmax);
RRTO_HOST_KERNEL(argmax);
RRTO_HOST_KERNEL(sigmoid_fwd);
RRTO_HOST_KERNEL(decode_boxes);
RRTO_HOST_KERNEL(topk_per_image);
RRTO_HOST_KERNEL(count_valid);
RRTO_HOST_KERNEL(nms_sort);
RRTO_HOST_KERNEL(nms_iou_mask);
RRTO_HOST_KERNEL(nms_gather);
RRTO_HOST_KERNEL(roi_align);
RRTO_HOST_KERNEL(decode_detections);
RRTO_HOST_KERNEL(gather_detections);

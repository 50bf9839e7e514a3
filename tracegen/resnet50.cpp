// ResNet-50 inference as cuDNN/cuBLAS run it, one iteration: 315 launches of
// 21 distinct kernels, an async input upload, an async output download and a
// stream synchronize.
#include "tracegen/model_plan.h"
#include "tracegen/resnet_backbone.h"

namespace rrto::tracegen {

void ResNetBackbone::stem() {
  const uint32_t im2col = p.kernel("im2col_kernel", "ppiiii");
  const uint32_t gemm = p.kernel("sgemm_128x64_nn", "pppiiiff");
  const uint32_t epilogue = p.kernel("conv_epilogue_bias", "pppi");
  const uint32_t maxpool = p.kernel("max_pool2d_nchw", "ppiiii");
  const uint64_t conv_out = 64ull * 112 * 112;
  p.launch(im2col, 3ull * 49 * 112 * 112, 256, 0, {In(0), Ws(0), B(), C(3), C(224), C(7)});
  p.launch(gemm, conv_out, 256, 16384, {Ws(0), W(p.weight(64 * 147 * 4)), A(next()), C(64), C(12544), C(147), F(1), F(0)});
  p.launch(epilogue, conv_out, 256, 0, {A(cur), W(p.weight(256)), A(next()), C(conv_out)});
  batch_norm(conv_out, 64);
  relu(conv_out);
  p.launch(maxpool, 64ull * 56 * 56, 256, 0, {A(cur), A(next()), B(), C(64), C(112), C(3)});
}

void ResNetBackbone::batch_norm(uint64_t elems, uint32_t channels) {
  const uint32_t bn = p.kernel("bn_fw_inf_nchw", "ppppppif");
  const uint64_t cb = channels * 4ull;
  p.launch(bn, elems, 256, 0,
           {A(cur), A(next()), W(p.weight(cb)), W(p.weight(cb)), W(p.weight(cb)), W(p.weight(cb)), C(channels),
            F(1e-5f)});
}

void ResNetBackbone::relu(uint64_t elems) {
  const uint32_t relu = p.kernel("relu_inplace", "pi");
  p.launch(relu, elems, 256, 0, {A(cur), C(elems)});
}

void ResNetBackbone::conv1x1(uint32_t in_ch, uint32_t out_ch, uint32_t hw) {
  const uint32_t gemm = p.kernel("implicit_gemm_1x1_splitk", "pppiiii");
  const uint32_t reduce = p.kernel("splitk_reduce", "ppii");
  const uint32_t epilogue = p.kernel("conv_epilogue_bias", "pppi");
  const uint64_t out = uint64_t{out_ch} * hw * hw;
  p.launch(gemm, out, 128, 32768, {A(cur), W(p.weight(uint64_t{in_ch} * out_ch * 4)), Ws(0), C(out_ch), C(hw * hw), C(in_ch), C(4)});
  p.launch(reduce, out, 256, 0, {Ws(0), A(next()), C(out), C(4)});
  p.launch(epilogue, out, 256, 0, {A(cur), W(p.weight(out_ch * 4ull)), A(next()), C(out)});
}

void ResNetBackbone::conv3x3(uint32_t ch, uint32_t hw) {
  const uint32_t to_nhwc = p.kernel("nchw_to_nhwc", "ppiiii");
  const uint32_t in_t = p.kernel("winograd_input_transform", "ppiii");
  const uint32_t gemm = p.kernel("winograd_gemm_4x4", "pppiii");
  const uint32_t out_t = p.kernel("winograd_output_transform", "pppiii");
  const uint32_t to_nchw = p.kernel("nhwc_to_nchw", "ppiiii");
  const uint64_t elems = uint64_t{ch} * hw * hw;
  p.launch(to_nhwc, elems, 256, 0, {A(cur), A(next()), B(), C(ch), C(hw), C(hw)});
  p.launch(in_t, elems * 16 / 9, 256, 0, {A(cur), Ws(0), C(ch), C(hw), C(hw)});
  p.launch(gemm, elems * 16 / 9, 256, 49152, {Ws(0), W(p.weight(uint64_t{ch} * ch * 64)), Ws(1 << 19), C(ch), C(ch), C(hw)});
  p.launch(out_t, elems, 256, 0, {Ws(1 << 19), W(p.weight(ch * 4ull)), A(next()), C(ch), C(hw), C(hw)});
  p.launch(to_nchw, elems, 256, 0, {A(cur), A(next()), B(), C(ch), C(hw), C(hw)});
}

void ResNetBackbone::bottleneck(uint32_t in_ch, uint32_t mid, uint32_t out_ch, uint32_t hw, bool downsample) {
  const uint64_t block_in = cur;
  uint64_t shortcut = block_in;
  if (downsample) {
    const uint32_t slice = p.kernel("strided_slice_copy", "ppiiii");
    const uint32_t gemm = p.kernel("implicit_gemm_1x1_stride2", "pppiii");
    const uint32_t epilogue = p.kernel("conv_epilogue_bias", "pppi");
    const uint64_t out = uint64_t{out_ch} * hw * hw;
    p.launch(slice, uint64_t{in_ch} * hw * hw, 256, 0, {A(block_in), A(next()), B(), C(in_ch), C(hw), C(2)});
    p.launch(gemm, out, 128, 32768, {A(cur), W(p.weight(uint64_t{in_ch} * out_ch * 4)), A(next()), C(out_ch), C(hw * hw), C(in_ch)});
    p.launch(epilogue, out, 256, 0, {A(cur), W(p.weight(out_ch * 4ull)), A(next()), C(out)});
    batch_norm(out, out_ch);
    shortcut = cur;
    cur = block_in;
  }
  conv1x1(in_ch, mid, hw);
  batch_norm(uint64_t{mid} * hw * hw, mid);
  relu(uint64_t{mid} * hw * hw);
  conv3x3(mid, hw);
  batch_norm(uint64_t{mid} * hw * hw, mid);
  relu(uint64_t{mid} * hw * hw);
  conv1x1(mid, out_ch, hw);
  batch_norm(uint64_t{out_ch} * hw * hw, out_ch);
  const uint32_t add = p.kernel("elementwise_add", "pppi");
  const uint64_t out = uint64_t{out_ch} * hw * hw;
  p.launch(add, out, 256, 0, {A(cur), A(shortcut), A(next()), C(out)});
  relu(out);
}

void ResNetBackbone::stage(uint32_t blocks, uint32_t in_ch, uint32_t mid, uint32_t out_ch, uint32_t hw) {
  for (uint32_t b = 0; b < blocks; ++b) bottleneck(b == 0 ? in_ch : out_ch, mid, out_ch, hw, b == 0);
}

ModelPlan resnet50_plan() {
  ModelPlan p;
  p.name = "resnet50";
  p.module_hash = 0x5e5e7050a11ce001ull;
  p.stream = 1;
  p.input_bytes = {3ull * 224 * 224 * 4};
  p.output_bytes = {1000ull * 4};
  p.activation_bytes = 64ull * 112 * 112 * 4;
  p.workspace_bytes = 8u << 20;

  p.upload(0, true);
  ResNetBackbone net{p};
  net.stem();
  net.stage(3, 64, 64, 256, 56);
  net.stage(4, 256, 128, 512, 28);
  net.stage(6, 512, 256, 1024, 14);
  net.stage(3, 1024, 512, 2048, 7);

  const uint32_t avgpool = p.kernel("adaptive_avg_pool2d", "ppiii");
  const uint32_t fc = p.kernel("sgemm_32x32_tn", "pppiiiff");
  const uint32_t bias = p.kernel("bias_add", "pppi");
  const uint32_t softmax = p.kernel("softmax_warp_forward", "ppiil");
  const uint32_t argmax = p.kernel("argmax_reduce", "ppii");
  p.launch(avgpool, 2048, 256, 0, {A(net.cur), A(net.next()), B(), C(2048), C(49)});
  p.launch(fc, 1000, 128, 8192, {A(net.cur), W(p.weight(2048ull * 1000 * 4)), A(net.next()), B(), C(1000), C(2048), F(1), F(0)});
  p.launch(bias, 1000, 256, 0, {A(net.cur), W(p.weight(4000)), A(net.next()), C(1000)});
  // The last argument is a per-call random offset (dropout-style philox).
  p.launch(softmax, 1000, 128, 0, {A(net.cur), Out(0), B(), C(1000), S()});
  p.launch(argmax, 1000, 256, 0, {Out(0), A(net.next()), B(), C(1000)});
  p.download(0, true);
  p.stream_sync();
  return p;
}

}  // namespace rrto::tracegen

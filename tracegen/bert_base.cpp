// BERT-base inference (sequence 128, hidden 768, 12 layers) as eager PyTorch
// with fp16 autocast runs it: 704 launches of 22 distinct kernels per
// iteration, 57 per layer. The layers are structurally identical (same
// kernels, same geometry), only their weight pointers differ. Inputs and
// outputs use synchronous copies on the default stream.
#include "tracegen/model_plan.h"

namespace rrto::tracegen {

namespace {

constexpr uint32_t kSeq = 128;
constexpr uint32_t kHidden = 768;
constexpr uint32_t kHeads = 12;
constexpr uint32_t kFfn = 3072;
constexpr uint64_t kTokens = kSeq;  // per sample

struct Bert {
  ModelPlan& p;
  uint64_t cur = 0;
  uint64_t next() { return cur = (cur + 1) % p.activation_slots; }

  void linear(uint32_t in, uint32_t out, uint32_t weight, uint32_t bias) {
    const uint32_t cast = p.kernel("cast_f32_to_f16", "ppi");
    const uint32_t gemm = p.kernel("hgemm_128x128_tn", "pppiiiff");
    const uint32_t reduce = p.kernel("splitk_reduce_f16", "ppii");
    const uint32_t add_bias = p.kernel("add_bias", "pppi");
    const uint64_t x = kTokens * in, y = kTokens * out;
    p.launch(cast, x, 256, 0, {A(cur), A(next()), C(x)});
    p.launch(cast, uint64_t{in} * out / kTokens, 256, 0, {W(weight), Ws(0), C(uint64_t{in} * out)});
    p.launch(gemm, y, 256, 32768, {A(cur), Ws(0), Ws(1 << 22), B(), C(out), C(in), F(1), F(0)});
    p.launch(reduce, y, 256, 0, {Ws(1 << 22), A(next()), C(y), C(2)});
    p.launch(add_bias, y, 256, 0, {A(cur), W(bias), A(next()), C(y)});
  }

  void layer_norm() {
    const uint32_t stats = p.kernel("layer_norm_stats", "ppif");
    const uint32_t apply = p.kernel("layer_norm_apply", "pppppi");
    p.launch(stats, kTokens * 32, 128, 1024, {A(cur), Ws(2 << 20), C(kHidden), F(1e-12f)});
    p.launch(apply, kTokens * kHidden, 256, 0,
             {A(cur), Ws(2 << 20), W(p.weight(kHidden * 4)), W(p.weight(kHidden * 4)), A(next()), C(kHidden)});
  }

  void layer() {
    const uint32_t view_copy = p.kernel("view_copy_contiguous", "ppii");
    const uint32_t t0213 = p.kernel("transpose_0213", "ppiiii");
    const uint32_t t0132 = p.kernel("transpose_0132", "ppiiii");
    const uint32_t bgemm = p.kernel("hgemm_batched_64x64", "pppiiiif");
    const uint32_t to_f32 = p.kernel("cast_f16_to_f32", "ppi");
    const uint32_t to_f16 = p.kernel("cast_f32_to_f16", "ppi");
    const uint32_t mul = p.kernel("mul_scalar", "ppfi");
    const uint32_t add_mask = p.kernel("add_attention_mask", "pppii");
    const uint32_t softmax = p.kernel("softmax_lastdim", "ppii");
    const uint32_t residual = p.kernel("residual_add", "pppi");
    const uint32_t gelu = p.kernel("gelu_erf", "ppi");
    const uint64_t h = kTokens * kHidden;
    const uint64_t scores = uint64_t{kHeads} * kSeq * kSeq;
    const uint64_t layer_in = cur;

    // The attention mask, expanded per layer as eager code does.
    p.launch(view_copy, kSeq, 128, 0, {In(2), A(next()), C(kSeq), C(1)});
    p.launch(mul, kSeq, 128, 0, {A(cur), A(next()), F(-10000.0f), C(kSeq)});
    p.launch(to_f16, kSeq, 128, 0, {A(cur), A(next()), C(kSeq)});
    const uint64_t mask = cur;

    uint64_t qkv[3];
    for (uint64_t& out : qkv) {
      cur = layer_in;
      linear(kHidden, kHidden, p.weight(uint64_t{kHidden} * kHidden * 4), p.weight(kHidden * 4));
      p.launch(view_copy, h, 256, 0, {A(cur), A(next()), C(h), C(0)});
      p.launch(t0213, h, 256, 0, {A(cur), A(next()), B(), C(kSeq), C(kHeads), C(64)});
      out = cur;
    }
    p.launch(t0132, h, 256, 0, {A(qkv[1]), A(next()), B(), C(kHeads), C(kSeq), C(64)});
    p.launch(bgemm, scores, 256, 16384, {A(qkv[0]), A(cur), A(next()), B(), C(kHeads), C(kSeq), C(64), F(1)});
    p.launch(to_f32, scores, 256, 0, {A(cur), A(next()), C(scores)});
    p.launch(mul, scores, 256, 0, {A(cur), A(next()), F(0.125f), C(scores)});
    p.launch(add_mask, scores, 256, 0, {A(cur), A(mask), A(next()), C(kSeq), C(kHeads)});
    p.launch(softmax, scores, 128, 0, {A(cur), A(next()), C(kSeq), C(kHeads * kSeq)});
    p.launch(to_f16, scores, 256, 0, {A(cur), A(next()), C(scores)});
    p.launch(bgemm, h, 256, 16384, {A(cur), A(qkv[2]), A(next()), B(), C(kHeads), C(kSeq), C(64), F(1)});
    p.launch(to_f32, h, 256, 0, {A(cur), A(next()), C(h)});
    p.launch(t0213, h, 256, 0, {A(cur), A(next()), B(), C(kHeads), C(kSeq), C(64)});
    p.launch(view_copy, h, 256, 0, {A(cur), A(next()), C(h), C(0)});
    linear(kHidden, kHidden, p.weight(uint64_t{kHidden} * kHidden * 4), p.weight(kHidden * 4));
    p.launch(residual, h, 256, 0, {A(cur), A(layer_in), A(next()), C(h)});
    layer_norm();
    const uint64_t attn_out = cur;

    linear(kHidden, kFfn, p.weight(uint64_t{kHidden} * kFfn * 4), p.weight(kFfn * 4));
    p.launch(gelu, kTokens * kFfn, 256, 0, {A(cur), A(next()), C(kTokens * kFfn)});
    linear(kFfn, kHidden, p.weight(uint64_t{kHidden} * kFfn * 4), p.weight(kHidden * 4));
    p.launch(residual, h, 256, 0, {A(cur), A(attn_out), A(next()), C(h)});
    layer_norm();
  }
};

}  // namespace

ModelPlan bert_base_plan() {
  ModelPlan p;
  p.name = "bert";
  p.module_hash = 0xbe47ba5e00c0ffeeull;
  p.stream = 0;
  p.input_bytes = {kSeq * 8ull, kSeq * 8ull, kSeq * 8ull};  // input ids, token types, attention mask
  p.output_bytes = {2 * 4, 8};                               // logits, predicted class
  p.activation_slots = 16;
  p.activation_bytes = kTokens * kFfn * 4;
  p.workspace_bytes = 16u << 20;

  for (uint32_t i = 0; i < 3; ++i) p.upload(i, false);
  Bert net{p};
  const uint32_t gather = p.kernel("embedding_gather", "pppiil");
  const uint32_t add3 = p.kernel("add_embeddings", "ppppi");
  const uint64_t h = kTokens * kHidden;
  // Position ids start at an offset: the per-iteration scalar when enabled.
  p.launch(gather, h, 256, 0, {In(0), W(p.weight(30522ull * kHidden * 4)), A(net.next()), B(), C(kSeq), C(0)});
  const uint64_t word = net.cur;
  p.launch(gather, h, 256, 0, {In(1), W(p.weight(2ull * kHidden * 4)), A(net.next()), B(), C(kSeq), C(0)});
  const uint64_t type = net.cur;
  p.launch(gather, h, 256, 0, {Ws(3 << 20), W(p.weight(512ull * kHidden * 4)), A(net.next()), B(), C(kSeq), S()});
  p.launch(add3, h, 256, 0, {A(word), A(type), A(net.cur), A(net.next()), C(h)});
  net.layer_norm();

  for (int l = 0; l < 12; ++l) net.layer();

  const uint32_t first = p.kernel("gather_first_token", "ppii");
  const uint32_t tanh = p.kernel("pooler_tanh", "ppi");
  const uint32_t log_softmax = p.kernel("log_softmax", "ppii");
  const uint32_t argmax = p.kernel("argmax", "ppii");
  p.launch(first, kHidden, 256, 0, {A(net.cur), A(net.next()), B(), C(kHidden)});
  net.linear(kHidden, kHidden, p.weight(uint64_t{kHidden} * kHidden * 4), p.weight(kHidden * 4));
  p.launch(tanh, kHidden, 256, 0, {A(net.cur), A(net.next()), C(kHidden)});
  net.linear(kHidden, 2, p.weight(kHidden * 2ull * 4), p.weight(8));
  p.launch(log_softmax, 2, 32, 0, {A(net.cur), Out(0), B(), C(2)});
  p.launch(argmax, 2, 32, 0, {Out(0), Out(1), B(), C(2)});
  p.download(0, false);
  p.download(1, false);
  return p;
}

}  // namespace rrto::tracegen

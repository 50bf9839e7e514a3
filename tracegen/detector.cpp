// A two-stage detector: a ResNet trunk and a proposal head, then the number
// of proposals is copied back to the host in the middle of the iteration
// (synchronously, as `.item()` does), more work runs (NMS, box head), and the
// detections are copied back at the end.
#include "tracegen/model_plan.h"
#include "tracegen/resnet_backbone.h"

namespace rrto::tracegen {

ModelPlan detector_plan() {
  ModelPlan p;
  p.name = "detector";
  p.module_hash = 0xde7ec7000000b0c5ull;
  p.stream = 2;
  p.input_bytes = {3ull * 224 * 224 * 4};
  p.output_bytes = {100ull * 6 * 4, 4};  // detections, proposal count
  p.activation_bytes = 64ull * 112 * 112 * 4;
  p.workspace_bytes = 8u << 20;

  p.upload(0, true);
  ResNetBackbone net{p};
  net.stem();
  net.stage(3, 64, 64, 256, 56);
  net.stage(4, 256, 128, 512, 28);

  const uint32_t sigmoid = p.kernel("sigmoid_fwd", "ppi");
  const uint32_t decode = p.kernel("decode_boxes", "pppii");
  const uint32_t topk = p.kernel("topk_per_image", "ppiii");
  const uint32_t count = p.kernel("count_valid", "ppif");
  net.conv3x3(512, 28);
  net.relu(512ull * 28 * 28);
  const uint64_t features = net.cur;
  net.conv1x1(512, 9, 28);
  const uint64_t scores = net.cur;
  net.cur = features;
  net.conv1x1(512, 36, 28);
  const uint64_t deltas = net.cur;
  p.launch(sigmoid, 9ull * 28 * 28, 256, 0, {A(scores), A(net.next()), C(9 * 28 * 28)});
  p.launch(decode, 36ull * 28 * 28, 256, 0, {A(deltas), W(p.weight(9 * 16)), A(net.next()), B(), C(9 * 28 * 28)});
  p.launch(topk, 1000, 512, 8192, {A(net.cur), A(net.next()), B(), C(9 * 28 * 28), C(1000)});
  p.launch(count, 1, 32, 0, {A(net.cur), Out(1), B(), F(0.05f)});
  p.download(1, false);  // the host reads the proposal count

  const uint32_t sort = p.kernel("nms_sort", "ppii");
  const uint32_t iou = p.kernel("nms_iou_mask", "ppif");
  const uint32_t gather = p.kernel("nms_gather", "pppi");
  const uint32_t roi = p.kernel("roi_align", "pppiiii");
  const uint32_t fc = p.kernel("sgemm_32x32_tn", "pppiiiff");
  const uint32_t bias = p.kernel("bias_add", "pppi");
  const uint32_t relu = p.kernel("relu_inplace", "pi");
  const uint32_t softmax = p.kernel("softmax_warp_forward", "ppiil");
  const uint32_t final_decode = p.kernel("decode_detections", "pppii");
  const uint32_t collect = p.kernel("gather_detections", "pppi");
  p.launch(sort, 1000, 512, 16384, {A(net.cur), A(net.next()), B(), C(1000)});
  p.launch(iou, 1000ull * 1000 / 64, 256, 0, {A(net.cur), Ws(0), C(1000), F(0.7f)});
  p.launch(gather, 300, 256, 0, {A(net.cur), Ws(0), A(net.next()), C(300)});
  p.launch(roi, 300ull * 256 * 49, 256, 0, {A(features), A(net.cur), A(net.next()), B(), C(256), C(7), C(7)});
  p.launch(fc, 300ull * 1024, 128, 8192, {A(net.cur), W(p.weight(12544ull * 1024 * 4)), A(net.next()), C(300), C(1024), C(12544), F(1), F(0)});
  p.launch(bias, 300ull * 1024, 256, 0, {A(net.cur), W(p.weight(4096)), A(net.next()), C(300 * 1024)});
  p.launch(relu, 300ull * 1024, 256, 0, {A(net.cur), C(300 * 1024)});
  p.launch(fc, 300ull * 1024, 128, 8192, {A(net.cur), W(p.weight(1024ull * 1024 * 4)), A(net.next()), C(300), C(1024), C(1024), F(1), F(0)});
  p.launch(bias, 300ull * 1024, 256, 0, {A(net.cur), W(p.weight(4096)), A(net.next()), C(300 * 1024)});
  p.launch(relu, 300ull * 1024, 256, 0, {A(net.cur), C(300 * 1024)});
  p.launch(softmax, 300ull * 91, 128, 0, {A(net.cur), A(net.next()), C(300), C(91), S()});
  p.launch(final_decode, 300ull * 91 * 4, 256, 0, {A(net.cur), W(p.weight(91 * 16)), A(net.next()), B(), C(300)});
  p.launch(collect, 100, 128, 0, {A(net.cur), A(scores), Out(0), C(100)});
  p.download(0, true);
  p.stream_sync();
  return p;
}

}  // namespace rrto::tracegen

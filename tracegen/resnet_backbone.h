// The convolutional trunk shared by the ResNet-50 and detector plans.
#pragma once

#include "tracegen/model_plan.h"

namespace rrto::tracegen {

struct ResNetBackbone {
  ModelPlan& p;
  uint64_t cur = 0;  // activation slot holding the latest output

  // Moves to the next activation slot and returns it.
  uint64_t next() { return cur = (cur + 1) % p.activation_slots; }

  void stem();
  void stage(uint32_t blocks, uint32_t in_ch, uint32_t mid, uint32_t out_ch, uint32_t hw);
  void bottleneck(uint32_t in_ch, uint32_t mid, uint32_t out_ch, uint32_t hw, bool downsample);
  void conv1x1(uint32_t in_ch, uint32_t out_ch, uint32_t hw);
  void conv3x3(uint32_t ch, uint32_t hw);
  void batch_norm(uint64_t elems, uint32_t channels);
  void relu(uint64_t elems);
};

}  // namespace rrto::tracegen

#include "matcher/history.h"

#include <bit>
#include <cstring>

namespace rrto {

namespace {

constexpr uint64_t kNoBytes = ~uint64_t{0};

}  // namespace

History::History(uint32_t ops, uint32_t operand_bytes)
    : mask_(std::bit_ceil(ops < 2 ? 2u : ops) - 1),
      byte_capacity_(std::bit_ceil(operand_bytes < 4096 ? 4096u : operand_bytes)) {
  records_ = std::make_unique<HistoryRecord[]>(capacity());
  bytes_ = std::make_unique_for_overwrite<uint8_t[]>(byte_capacity_);
}

void History::push(const Op& op) {
  HistoryRecord& r = records_[count_ & mask_];
  r.structural_sig = op.structural_sig;
  r.full_sig = op.full_sig;
  r.kind = op.kind;
  r.kernel = op.kernel;
  std::array<uint8_t, 16> scratch;
  const auto operands = op_operands(op, scratch);
  r.operand_size = static_cast<uint32_t>(operands.size());
  if (operands.size() > byte_capacity_ / 4) {
    r.operand_pos = kNoBytes;
  } else {
    // An op's bytes are kept contiguous: skip the rest of the lap when they
    // would wrap.
    uint64_t at = byte_end_ & (byte_capacity_ - 1);
    if (at + operands.size() > byte_capacity_) {
      byte_end_ += byte_capacity_ - at;
      at = 0;
    }
    if (!operands.empty()) std::memcpy(bytes_.get() + at, operands.data(), operands.size());
    r.operand_pos = byte_end_;
    byte_end_ += operands.size();
  }
  ++count_;
}

bool History::operands(uint64_t index, std::span<const uint8_t>& out) const {
  const HistoryRecord& r = at(index);
  if (r.operand_pos == kNoBytes || byte_end_ - r.operand_pos > byte_capacity_) return false;
  out = {bytes_.get() + (r.operand_pos & (byte_capacity_ - 1)), r.operand_size};
  return true;
}

}  // namespace rrto

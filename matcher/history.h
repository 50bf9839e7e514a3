// The bounded memory of recent ops the search looks back into: a ring of
// per-op records and a ring of their operand bytes (see op_operands()). Old
// entries are overwritten; nothing grows with run time.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "recorder/op.h"

namespace rrto {

struct HistoryRecord {
  uint64_t structural_sig = 0;
  uint64_t full_sig = 0;
  uint64_t operand_pos = 0;  // absolute position in the operand byte stream
  uint32_t operand_size = 0;
  OpKind kind = OpKind::ContextSynchronize;
  const KernelDef* kernel = nullptr;
};

class History {
 public:
  History(uint32_t ops, uint32_t operand_bytes);

  // Records `op` as op number count().
  void push(const Op& op);

  uint64_t count() const { return count_; }
  uint32_t capacity() const { return mask_ + 1; }
  bool holds(uint64_t index) const { return index < count_ && count_ - index <= capacity(); }
  // Only for indices that holds() accepts.
  const HistoryRecord& at(uint64_t index) const { return records_[index & mask_]; }
  // The operand bytes of op `index`; false when they have been overwritten.
  bool operands(uint64_t index, std::span<const uint8_t>& out) const;

 private:
  std::unique_ptr<HistoryRecord[]> records_;
  uint32_t mask_;
  std::unique_ptr<uint8_t[]> bytes_;
  uint64_t byte_capacity_;  // a power of two
  uint64_t byte_end_ = 0;  // absolute position just past the newest bytes
  uint64_t count_ = 0;
};

}  // namespace rrto

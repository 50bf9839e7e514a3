// Which arguments of an op differ between two occurrences, expressed the way
// replay sends them: whole parameters where the layout is known, byte ranges
// where it is not.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "recorder/kernel.h"

namespace rrto {

struct VariableArg {
  uint32_t position = 0;  // op index within the template
  int32_t param = -1;     // ordinal in operand_layout(); -1 when no parameter covers the bytes
  uint32_t offset = 0;    // byte range within the op's operands (for launches, the argument buffer)
  uint32_t size = 0;
  friend bool operator==(const VariableArg&, const VariableArg&) = default;
};

// Appends to `out` the variable arguments of op `position` that cover every
// byte where `a` and `b` differ and that `known` does not already cover.
// Bytes present in only one of them count as differing.
void diff_operands(uint32_t position, std::span<const KernelParam> layout, std::span<const uint8_t> a,
                   std::span<const uint8_t> b, std::span<const VariableArg> known, std::vector<VariableArg>& out);

// True when `a` and `b` differ somewhere outside the ranges in `known`
// (sorted by offset).
bool differs_outside(std::span<const uint8_t> a, std::span<const uint8_t> b, std::span<const VariableArg> known);

}  // namespace rrto

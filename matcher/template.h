// A confirmed iteration: the op sequence the matcher found repeating, with
// the argument values of one occurrence as reference and the arguments that
// change between occurrences marked variable.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "matcher/history.h"
#include "matcher/variable_args.h"
#include "recorder/op.h"

namespace rrto {

using TemplateId = uint32_t;
inline constexpr TemplateId kNoTemplate = 0;  // real ids start at 1

class Template {
 public:
  struct Entry {
    uint64_t structural_sig = 0;
    uint64_t full_sig = 0;  // of the reference occurrence
    uint32_t operand_offset = 0, operand_size = 0;
    uint32_t var_begin = 0, var_end = 0;  // this op's slice of variables()
    OpKind kind = OpKind::ContextSynchronize;
    const KernelDef* kernel = nullptr;
  };

  // From two structurally identical occurrences held in `history`: the
  // newer one is the reference, bytes where the older differs are variable.
  static std::unique_ptr<Template> build(TemplateId id, const History& history, uint64_t older, uint64_t newer,
                                         uint32_t length);

  TemplateId id() const { return id_; }
  uint32_t length() const { return static_cast<uint32_t>(ops_.size()); }
  const Entry& op(uint32_t position) const { return ops_[position]; }
  std::span<const uint8_t> reference_operands(uint32_t position) const;
  // Sorted by position, then offset.
  std::span<const VariableArg> variables() const { return variables_; }
  std::span<const VariableArg> variables_at(uint32_t position) const;

  // Stream index where the first occurrence of the confirming run starts.
  uint64_t boundary() const { return boundary_; }
  // Stream index of the op that confirmed it.
  uint64_t confirmed_at() const { return confirmed_at_; }
  // Complete occurrences seen, the ones that confirmed it included.
  uint64_t occurrences() const { return occurrences_; }
  uint64_t times_broken() const { return broken_; }

  // For an op that matched `position` structurally but not in full: true
  // when bytes outside the known variable ranges differ from the reference,
  // which are then marked variable too.
  bool absorb(uint32_t position, std::span<const uint8_t> operands);

 private:
  friend class Matcher;
  void index_variables();

  TemplateId id_ = kNoTemplate;
  std::vector<Entry> ops_;
  std::vector<uint8_t> operand_bytes_;
  std::vector<VariableArg> variables_;
  uint64_t boundary_ = 0;
  uint64_t confirmed_at_ = 0;
  uint64_t occurrences_ = 0;
  uint64_t broken_ = 0;
  uint64_t last_used_ = 0;
};

}  // namespace rrto

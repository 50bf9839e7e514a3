#include "matcher/template.h"

#include <algorithm>

namespace rrto {

std::unique_ptr<Template> Template::build(TemplateId id, const History& history, uint64_t older, uint64_t newer,
                                          uint32_t length) {
  auto t = std::make_unique<Template>();
  t->id_ = id;
  t->ops_.resize(length);
  for (uint32_t i = 0; i < length; ++i) {
    const HistoryRecord& now = history.at(newer + i);
    const HistoryRecord& before = history.at(older + i);
    Entry& e = t->ops_[i];
    e.structural_sig = now.structural_sig;
    e.full_sig = now.full_sig;
    e.kind = now.kind;
    e.kernel = now.kernel;
    std::span<const uint8_t> ref;
    if (!history.operands(newer + i, ref)) ref = {};  // too large to keep: every argument is variable
    e.operand_offset = static_cast<uint32_t>(t->operand_bytes_.size());
    e.operand_size = static_cast<uint32_t>(ref.size());
    t->operand_bytes_.insert(t->operand_bytes_.end(), ref.begin(), ref.end());
    if (before.full_sig == now.full_sig && ref.size() == now.operand_size) continue;

    std::span<const uint8_t> old;
    const auto layout = operand_layout(now.kind, now.kernel);
    if (ref.size() != now.operand_size || !history.operands(older + i, old)) {
      // The bytes to compare are gone: treat every byte as changed.
      std::vector<uint8_t> none;
      std::vector<uint8_t> all(now.operand_size, 0);
      diff_operands(i, layout, all, none, {}, t->variables_);
    } else {
      diff_operands(i, layout, ref, old, {}, t->variables_);
    }
  }
  t->index_variables();
  return t;
}

void Template::index_variables() {
  std::sort(variables_.begin(), variables_.end(), [](const VariableArg& a, const VariableArg& b) {
    return a.position != b.position ? a.position < b.position : a.offset < b.offset;
  });
  for (Entry& e : ops_) e.var_begin = e.var_end = 0;
  for (uint32_t v = 0; v < variables_.size(); ++v) {
    Entry& e = ops_[variables_[v].position];
    if (e.var_end == 0) e.var_begin = v;
    e.var_end = v + 1;
  }
}

std::span<const uint8_t> Template::reference_operands(uint32_t position) const {
  const Entry& e = ops_[position];
  return {operand_bytes_.data() + e.operand_offset, e.operand_size};
}

std::span<const VariableArg> Template::variables_at(uint32_t position) const {
  const Entry& e = ops_[position];
  return std::span<const VariableArg>(variables_).subspan(e.var_begin, e.var_end - e.var_begin);
}

bool Template::absorb(uint32_t position, std::span<const uint8_t> operands) {
  const auto ref = reference_operands(position);
  const auto known = variables_at(position);
  if (!differs_outside(ref, operands, known)) return false;
  const Entry& e = ops_[position];
  std::vector<VariableArg> added;
  diff_operands(position, operand_layout(e.kind, e.kernel), ref, operands, known, added);
  if (added.empty()) return false;
  variables_.insert(variables_.end(), added.begin(), added.end());
  index_variables();
  return true;
}

}  // namespace rrto

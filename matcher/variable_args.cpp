#include "matcher/variable_args.h"

#include <algorithm>
#include <cstring>

namespace rrto {

namespace {

void clear_range(std::vector<uint8_t>& differs, uint64_t offset, uint64_t size) {
  const uint64_t end = std::min<uint64_t>(offset + size, differs.size());
  for (uint64_t i = offset; i < end; ++i) differs[i] = 0;
}

}  // namespace

void diff_operands(uint32_t position, std::span<const KernelParam> layout, std::span<const uint8_t> a,
                   std::span<const uint8_t> b, std::span<const VariableArg> known, std::vector<VariableArg>& out) {
  const size_t size = std::max(a.size(), b.size());
  std::vector<uint8_t> differs(size);
  for (size_t i = 0; i < size; ++i) differs[i] = i >= a.size() || i >= b.size() || a[i] != b[i];
  for (const VariableArg& k : known) clear_range(differs, k.offset, k.size);

  for (size_t p = 0; p < layout.size(); ++p) {
    const uint64_t begin = std::min<uint64_t>(layout[p].offset, size);
    const uint64_t end = std::min<uint64_t>(uint64_t{layout[p].offset} + layout[p].size, size);
    if (std::find(differs.begin() + begin, differs.begin() + end, 1) == differs.begin() + end) continue;
    out.push_back({position, static_cast<int32_t>(p), layout[p].offset, layout[p].size});
    clear_range(differs, begin, end - begin);
  }
  for (size_t i = 0; i < size;) {
    if (!differs[i]) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < size && differs[j]) ++j;
    out.push_back({position, -1, static_cast<uint32_t>(i), static_cast<uint32_t>(j - i)});
    i = j;
  }
}

bool differs_outside(std::span<const uint8_t> a, std::span<const uint8_t> b, std::span<const VariableArg> known) {
  if (a.size() != b.size()) return true;
  size_t at = 0;
  for (const VariableArg& k : known) {
    const size_t begin = std::min<size_t>(k.offset, a.size());
    if (begin > at && std::memcmp(a.data() + at, b.data() + at, begin - at) != 0) return true;
    at = std::max<size_t>(at, std::min<size_t>(uint64_t{k.offset} + k.size, a.size()));
  }
  return at < a.size() && std::memcmp(a.data() + at, b.data() + at, a.size() - at) != 0;
}

}  // namespace rrto

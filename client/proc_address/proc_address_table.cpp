#include "client/proc_address/proc_address_table.h"

#include <algorithm>
#include <iterator>

namespace rrto::client {
namespace {

// Sorted by name, then legacy before per-thread, then by version.
constexpr ProcVariant kVariants[] = {
#include "client/generated/proc_address_table.inc"
};

struct ByName {
  bool operator()(const ProcVariant& v, std::string_view name) const { return v.name < name; }
  bool operator()(std::string_view name, const ProcVariant& v) const { return name < v.name; }
};

}  // namespace

ProcLookup find_proc_variant(std::string_view name, int cuda_version, bool per_thread) {
  const auto [first, last] = std::equal_range(std::begin(kVariants), std::end(kVariants), name, ByName{});
  if (first == last) return {};
  const ProcVariant* legacy = nullptr;
  const ProcVariant* threaded = nullptr;
  for (auto v = first; v != last; ++v) {
    if (v->version > cuda_version) continue;
    (v->per_thread ? threaded : legacy) = &*v;  // rows are in version order
  }
  if (!legacy) return {.status = ProcStatus::VersionNotSufficient};
  // A per-thread variant only stands for the newest signature if it is at
  // least as new; otherwise that signature has no per-thread form.
  if (per_thread && threaded && threaded->version >= legacy->version)
    return {.status = ProcStatus::Found, .symbol = threaded->symbol};
  return {.status = ProcStatus::Found, .symbol = legacy->symbol};
}

}  // namespace rrto::client

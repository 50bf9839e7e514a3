// A recorded op stream that owns what its ops point to: the kernel table
// their `kernel` pointers come from and the arena their argument bytes live in.
#pragma once

#include <span>
#include <vector>

#include "recorder/arg_arena.h"
#include "recorder/kernel.h"
#include "recorder/op.h"

namespace rrto {

class Trace {
 public:
  Trace() = default;
  Trace(const Trace&) = delete;
  Trace& operator=(const Trace&) = delete;

  // Kernels of the ops appended here should come from this table, so that
  // they live as long as the trace.
  KernelTable& kernels() { return kernels_; }
  const KernelTable& kernels() const { return kernels_; }

  // Stores a copy of `op` whose argument bytes live in this trace.
  void append(const Op& op);
  void reserve(size_t ops) { ops_.reserve(ops); }

  std::span<const Op> ops() const { return ops_; }
  size_t size() const { return ops_.size(); }
  const Op& operator[](size_t i) const { return ops_[i]; }

 private:
  KernelTable kernels_;
  ArgArena arena_;
  std::vector<Op> ops_;
};

}  // namespace rrto

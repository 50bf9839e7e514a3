#include "recorder/trace.h"

namespace rrto {

void Trace::append(const Op& op) {
  Op stored = op;  // `op` may be one of ops_, which push_back can move
  stored.args = op.args_size ? arena_.copy(op.arg_bytes()).data() : nullptr;
  ops_.push_back(stored);
}

}  // namespace rrto

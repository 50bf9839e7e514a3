#include "protocol/calls.h"

namespace rrto::proto {

const char* call_op_name(CallOp op) {
  switch (op) {
#define RRTO_CALL_NAME(name, wire, is_operator, builds) \
  case CallOp::name: return #name;
    RRTO_PROTOCOL_CALLS(RRTO_CALL_NAME)
#undef RRTO_CALL_NAME
  }
  return "unknown";
}

}  // namespace rrto::proto

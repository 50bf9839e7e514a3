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

const char* speculation_verdict_text(uint32_t verdict) {
  switch (verdict) {
#define RRTO_SPECULATION_VERDICT_TEXT(name, text) \
  case name: return text;
    RRTO_SPECULATION_VERDICTS(RRTO_SPECULATION_VERDICT_TEXT)
#undef RRTO_SPECULATION_VERDICT_TEXT
  }
  return "unknown";
}

}  // namespace rrto::proto

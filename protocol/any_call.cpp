#include "protocol/any_call.h"

namespace rrto::proto {
namespace {

template <typename Call>
bool decode_as(std::span<const uint8_t> body, AnyCall& out) {
  Call& call = out.emplace<Call>();
  return decode_fields(body, call);
}

}  // namespace

bool decode_call(const CallView& view, AnyCall& out) {
  switch (view.op) {
#define RRTO_DECODE_CALL(name, wire, is_operator, builds) \
  case CallOp::name: return decode_as<name>(view.body, out);
    RRTO_PROTOCOL_CALLS(RRTO_DECODE_CALL)
#undef RRTO_DECODE_CALL
  }
  return false;
}

}  // namespace rrto::proto

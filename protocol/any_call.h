// Any one call of the protocol, decoded: the variant of every call struct and
// the decode of one call into it, both generated from RRTO_PROTOCOL_CALLS.
#pragma once

#include <type_traits>
#include <variant>

#include "protocol/batch.h"
#include "protocol/calls.h"

namespace rrto::proto {

namespace detail {
// Drops the leading placeholder, which lets the list expand to ", Call" each.
template <typename Placeholder, typename... Calls>
struct CallVariant {
  using type = std::variant<Calls...>;
};
}  // namespace detail

#define RRTO_CALL_TYPE(name, wire, is_operator, builds) , name
using AnyCall = detail::CallVariant<void RRTO_PROTOCOL_CALLS(RRTO_CALL_TYPE)>::type;
#undef RRTO_CALL_TYPE

inline CallOp call_op(const AnyCall& call) {
  return std::visit([](const auto& c) { return kCallOp<std::decay_t<decltype(c)>>; }, call);
}

// True when `view.body` holds exactly the fields of a call of kind `view.op`.
// The call's byte strings point into the body.
bool decode_call(const CallView& view, AnyCall& out);

}  // namespace rrto::proto

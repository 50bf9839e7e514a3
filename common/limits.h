// Bounds that the client, the matcher and the server must agree on, so each
// is defined once here.
#pragma once

#include <cstdint>

namespace rrto::limits {

// Replay templates one session holds at once. The matcher keeps this many,
// the client registers no more (it drops its oldest first), and the server
// refuses a registration beyond it.
inline constexpr uint32_t kReplayTemplates = 16;

// Operators in one template: the longest iteration replay can take over.
// The matcher remembers two such iterations to find one.
inline constexpr uint32_t kTemplateOperators = 1u << 15;

}  // namespace rrto::limits

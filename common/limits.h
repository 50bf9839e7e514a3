// Bounds that the client, the matcher and the server must agree on, so each
// is defined once here.
#pragma once

#include <cstdint>

namespace rrto::limits {

// Replay templates one session holds at once. The matcher keeps this many,
// the client registers no more (it drops its oldest first), and the server
// refuses a registration beyond it.
inline constexpr uint32_t kReplayTemplates = 16;

// Templates made from the program's CUDA graphs (one per executable graph
// in replay mode), counted apart from those above, with ids from
// kGraphTemplateIds up, which the matcher never reaches.
inline constexpr uint32_t kGraphTemplates = 64;
inline constexpr uint32_t kGraphTemplateIds = 1u << 31;

// Operators in one template: the longest iteration replay can take over.
// The matcher remembers two such iterations to find one.
inline constexpr uint32_t kTemplateOperators = 1u << 15;

// Bytes of one template's encoded calls.
inline constexpr uint64_t kTemplateBytes = 16u << 20;

// Calls in one request: the client sends what it has queued once it holds
// this many, and the server refuses a longer batch as malformed. Twice a
// template, so that a replayed stretch and what precedes it fit.
inline constexpr uint32_t kBatchCalls = 2 * kTemplateOperators;

// Bytes of a request before Hello has admitted the session: Hello fits many
// times over, anything larger is refused on its header.
inline constexpr uint64_t kHelloMessageBytes = 4096;

// Speculative continuation (DESIGN.md): the device memory a server saves
// before it continues a template past a synchronisation point, and the bytes
// of copies to the host one continuation may return.
inline constexpr uint64_t kSpeculationSavedBytes = 32ull << 20;
inline constexpr uint64_t kSpeculationOutputBytes = 1ull << 20;

}  // namespace rrto::limits

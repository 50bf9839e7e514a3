// The RRTO request protocol: the calls a client asks a server to run.
//
// Every request is a batch of calls (rpc mode sends batches of one); the reply
// carries the status of the batch and the outputs of its last call. Each call
// is a plain struct whose fields() lists its wire fields once, used both to
// encode and to decode, so the two cannot drift apart.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace rrto::proto {

// 2: the handshake proves the key (Hello, HelloChallenge, Authenticate).
// 3: Hello's flags; HelloResult's redirect and the server's load.
// 4: address windows (Hello/HelloResult window, MemAlloc at), failover
//    (kHelloResume, HelloResult's peers).
// 5: CompressedBulk.
// 6: speculative continuation (ReplaySegment's speculate_to, SpeculationEnd).
// 7: 2D copies and memsets (Memcpy2DHtoD, Memcpy2DDtoH, Memcpy2DDtoD, Memset2D).
// 8: function settings travel (FuncSetAttribute, FuncSetCacheConfig), and
//    launches with attributes (LaunchEx).
// 9: tensor maps (TensorMapEncode).
inline constexpr uint32_t kProtocolVersion = 9;

// Transport-level message opcodes.
enum MessageOp : uint16_t { kBatchRequest = 1, kBatchReply = 2 };

// Every call of the protocol, once: its struct (below) and CallOp name, its
// number on the wire (never renumber or reuse one), and whether it is an
// operator, i.e. device work that a replay template may hold, and whether it
// builds session state: what a client keeps to re-create its session on
// another server (client/session_record.h); queries, synchronisations and
// replays change nothing that outlives an inference. The enum, the names,
// kCallOp, kIsOperator, builds_state() below and AnyCall (any_call.h) are
// generated from it.
#define RRTO_PROTOCOL_CALLS(X)              \
  /*  name             wire operator builds */\
  X(Hello,              1, false, false)    \
  X(MemAlloc,           2, false, true )    \
  X(MemFree,            3, false, true )    \
  X(MemGetInfo,         4, false, false)    \
  X(MemcpyHtoD,         5, true , true )    \
  X(MemcpyDtoH,         6, true , false)    \
  X(MemcpyDtoD,         7, true , true )    \
  X(Memset,             8, true , true )    \
  X(ModuleLoad,         9, false, true )    \
  X(ModuleUnload,      10, false, true )    \
  X(ModuleGetFunction, 11, false, true )    \
  X(ModuleGetGlobal,   12, false, false)    \
  X(FuncGetAttribute,  13, false, false)    \
  X(Launch,            14, true , true )    \
  X(StreamCreate,      15, false, true )    \
  X(StreamDestroy,     16, false, true )    \
  X(StreamSynchronize, 17, true , false)    \
  X(StreamQuery,       18, false, false)    \
  X(StreamWaitEvent,   19, true , false)    \
  X(EventCreate,       20, false, true )    \
  X(EventDestroy,      21, false, true )    \
  X(EventRecord,       22, true , false)    \
  X(EventSynchronize,  23, false, false)    \
  X(EventQuery,        24, false, false)    \
  X(EventElapsedTime,  25, false, false)    \
  X(CtxSynchronize,    26, true , false)    \
  X(TemplateRegister,  27, false, true )    \
  X(TemplateDrop,      28, false, true )    \
  X(ReplaySegment,     29, false, false)    \
  X(Authenticate,      30, false, false)    \
  X(CompressedBulk,    31, false, false)    \
  X(SpeculationEnd,    32, false, false)    \
  X(Memcpy2DHtoD,      33, true , true )    \
  X(Memcpy2DDtoH,      34, true , false)    \
  X(Memcpy2DDtoD,      35, true , true )    \
  X(Memset2D,          36, true , true )    \
  X(FuncSetAttribute,  37, false, true )    \
  X(FuncSetCacheConfig, 38, false, true )   \
  X(LaunchEx,          39, true , true )    \
  X(TensorMapEncode,   40, false, false)

enum class CallOp : uint16_t {
#define RRTO_CALL_OP(name, wire, is_operator, builds) name = wire,
  RRTO_PROTOCOL_CALLS(RRTO_CALL_OP)
#undef RRTO_CALL_OP
};

// Whether a number read off the wire is a call (a repeated number in the
// list is a compile error here).
constexpr bool is_call_op(uint16_t value) {
  switch (value) {
#define RRTO_CALL_CASE(name, wire, is_operator, builds) case wire:
    RRTO_PROTOCOL_CALLS(RRTO_CALL_CASE)
#undef RRTO_CALL_CASE
    return true;
    default: return false;
  }
}

constexpr bool is_operator(CallOp op) {
  switch (op) {
#define RRTO_CALL_IS_OPERATOR(name, wire, is_op, builds) \
  case CallOp::name: return is_op;
    RRTO_PROTOCOL_CALLS(RRTO_CALL_IS_OPERATOR)
#undef RRTO_CALL_IS_OPERATOR
  }
  return false;
}

constexpr bool builds_state(CallOp op) {
  switch (op) {
#define RRTO_CALL_BUILDS_STATE(name, wire, is_op, builds) \
  case CallOp::name: return builds;
    RRTO_PROTOCOL_CALLS(RRTO_CALL_BUILDS_STATE)
#undef RRTO_CALL_BUILDS_STATE
  }
  return false;
}

const char* call_op_name(CallOp op);

// Byte strings in calls: on decode they point into the received message.
using Bytes = std::span<const uint8_t>;
using Text = std::string_view;

// Stream ids: 0 is the legacy default stream; ids with this bit set are a
// client thread's per-thread default stream; others are streams the client
// created.
inline constexpr uint64_t kPerThreadStreamBit = 1ull << 63;

// The result body of a failed call: why, in words, for the client's log.
struct ErrorResult {
  Text message;
  template <class F> void fields(F&& f) { f(message); }
};

// ---------------------------------------------------------------- calls

// A session begins with a handshake in which each side proves it knows the
// shared key without sending it (protocol/handshake.h): Hello (the client's
// nonce) -> HelloChallenge (the server's nonce and proof), then, once the
// client has checked that proof, Authenticate (the client's proof) ->
// HelloResult. A session runs no other call before it is admitted.
// Hello::flags.
enum HelloFlag : uint32_t {
  // Only the server's load is wanted: the server answers the handshake and
  // admits nothing (a client choosing between servers).
  kHelloProbe = 1u << 0,
  // Another server sent the client here: admit it, send it nowhere else.
  kHelloRedirected = 1u << 1,
  // The client re-creates a session its lost server held: admit it here, in
  // the address window it names (Hello::window), or refuse.
  kHelloResume = 1u << 2,
};
struct Hello {
  uint32_t protocol_version = kProtocolVersion;
  Bytes client_nonce;
  Text client_name;  // for the server's log: program name and pid
  uint32_t flags = 0;  // HelloFlag
  uint64_t window = 0;  // with kHelloResume: the session's address window (HelloResult::window)
  template <class F> void fields(F&& f) { f(protocol_version); f(client_nonce); f(client_name); f(flags); f(window); }
};
// proof: empty when the server has no key.
struct HelloChallenge {
  Bytes server_nonce;
  Bytes server_proof;
  template <class F> void fields(F&& f) { f(server_nonce); f(server_proof); }
};
// proof: empty when the client has no key.
struct Authenticate {
  Bytes client_proof;
  template <class F> void fields(F&& f) { f(client_proof); }
};
// The reply to Authenticate: the device a session is placed on, as the client
// presents it, and the server's load. No session (session_id 0, no device)
// when it answers a probe, or when `redirect` names the server of its cluster
// the client should use instead.
struct HelloResult {
  uint64_t session_id = 0;
  int32_t driver_version = 0;
  Text device_name;
  Bytes device_uuid;           // 16 bytes
  uint64_t total_memory = 0;
  int32_t pci_domain = 0, pci_bus = 0, pci_device = 0;
  Bytes attributes;            // int32_t per CUdevice_attribute, index = attribute
  Text redirect;               // "host:port", or empty
  uint32_t server_devices = 0;
  uint64_t server_sessions = 0;     // admitted, this one included
  uint64_t server_free_memory = 0;  // bytes, over its devices
  // The session's address window: its allocations lie inside it, on any
  // server of the cluster (1 and up; 0: none).
  uint64_t window = 0;
  Text peers;  // the other servers of the cluster, "host:port,host:port...", for failover
  template <class F> void fields(F&& f) {
    f(session_id); f(driver_version); f(device_name); f(device_uuid); f(total_memory);
    f(pci_domain); f(pci_bus); f(pci_device); f(attributes); f(redirect);
    f(server_devices); f(server_sessions); f(server_free_memory); f(window); f(peers);
  }
};

// How clients and servers of a cluster compare load: whether a new session
// would find fewer sessions per device on the first server (`sessions` on
// `devices`) than on the second, each counting the new one.
inline bool less_loaded(uint64_t sessions, uint64_t devices, uint64_t other_sessions, uint64_t other_devices) {
  return (sessions + 1) * other_devices < (other_sessions + 1) * devices;
}

// `at`: 0, or the address the allocation must have (inside the session's
// address window; a re-created session asks for the addresses it had).
struct MemAlloc {
  uint64_t size = 0;
  uint64_t at = 0;
  template <class F> void fields(F&& f) { f(size); f(at); }
};
struct MemAllocResult {
  uint64_t dptr = 0;
  template <class F> void fields(F&& f) { f(dptr); }
};

struct MemFree {
  uint64_t dptr = 0;
  template <class F> void fields(F&& f) { f(dptr); }
};

struct MemGetInfo {
  template <class F> void fields(F&&) {}
};
struct MemGetInfoResult {
  uint64_t free = 0, total = 0;
  template <class F> void fields(F&& f) { f(free); f(total); }
};

// The payload is bytes [bulk_offset, bulk_offset + size) of the batch's bulk.
struct MemcpyHtoD {
  uint64_t dst = 0, size = 0, bulk_offset = 0, stream = 0;
  template <class F> void fields(F&& f) { f(dst); f(size); f(bulk_offset); f(stream); }
};

// Only as the last call of a batch: the bytes come back as the reply's bulk.
struct MemcpyDtoH {
  uint64_t src = 0, size = 0, stream = 0;
  template <class F> void fields(F&& f) { f(src); f(size); f(stream); }
};

struct MemcpyDtoD {
  uint64_t dst = 0, src = 0, size = 0, stream = 0;
  template <class F> void fields(F&& f) { f(dst); f(src); f(size); f(stream); }
};

struct Memset {
  uint64_t dst = 0;
  uint32_t value = 0;
  uint32_t element_size = 1;  // 1, 2 or 4
  uint64_t count = 0;         // elements
  uint64_t stream = 0;
  template <class F> void fields(F&& f) { f(dst); f(value); f(element_size); f(count); f(stream); }
};

// 2D copies and memsets work on `height` rows of `width` bytes (Memset2D:
// elements); a device side's row y starts at its address + y * its pitch.
// A host side's rows travel packed, `width` bytes apart: a Memcpy2DHtoD's
// are bytes [bulk_offset, bulk_offset + width * height) of the batch's bulk
// (bulk_bytes), and a Memcpy2DDtoH's come back as the reply's bulk; like
// MemcpyDtoH, it may only be the last call of a batch.
struct Memcpy2DHtoD {
  uint64_t dst = 0, dst_pitch = 0, width = 0, height = 0, bulk_offset = 0, stream = 0;
  template <class F> void fields(F&& f) { f(dst); f(dst_pitch); f(width); f(height); f(bulk_offset); f(stream); }
};
struct Memcpy2DDtoH {
  uint64_t src = 0, src_pitch = 0, width = 0, height = 0, stream = 0;
  template <class F> void fields(F&& f) { f(src); f(src_pitch); f(width); f(height); f(stream); }
};
struct Memcpy2DDtoD {
  uint64_t dst = 0, dst_pitch = 0, src = 0, src_pitch = 0, width = 0, height = 0, stream = 0;
  template <class F> void fields(F&& f) { f(dst); f(dst_pitch); f(src); f(src_pitch); f(width); f(height); f(stream); }
};
struct Memset2D {
  uint64_t dst = 0, pitch = 0;
  uint32_t value = 0;
  uint32_t element_size = 1;  // 1, 2 or 4
  uint64_t width = 0;         // elements per row
  uint64_t height = 0;
  uint64_t stream = 0;
  template <class F> void fields(F&& f) { f(dst); f(pitch); f(value); f(element_size); f(width); f(height); f(stream); }
};

// The image is bytes [bulk_offset, bulk_offset + size) of the batch's bulk.
struct ModuleLoad {
  uint64_t module = 0;  // client-minted id
  uint64_t bulk_offset = 0, size = 0;
  template <class F> void fields(F&& f) { f(module); f(bulk_offset); f(size); }
};

struct ModuleUnload {
  uint64_t module = 0;
  template <class F> void fields(F&& f) { f(module); }
};

// The client sends the parameter layout it parsed from the image; the server
// confirms it against what its backend knows of the kernel.
struct ModuleGetFunction {
  uint64_t module = 0;
  uint64_t function = 0;  // client-minted id
  Text name;
  Bytes param_layout;     // uint32_t pairs (offset, size)
  template <class F> void fields(F&& f) { f(module); f(function); f(name); f(param_layout); }
};

struct ModuleGetGlobal {
  uint64_t module = 0;
  Text name;
  template <class F> void fields(F&& f) { f(module); f(name); }
};
struct ModuleGetGlobalResult {
  uint64_t dptr = 0, size = 0;
  template <class F> void fields(F&& f) { f(dptr); f(size); }
};

struct FuncGetAttribute {
  uint64_t function = 0;
  int32_t attribute = 0;
  template <class F> void fields(F&& f) { f(function); f(attribute); }
};
struct FuncGetAttributeResult {
  int32_t value = 0;
  template <class F> void fields(F&& f) { f(value); }
};

// A function's setting (cuFuncSetAttribute, cuFuncSetCacheConfig), applied
// in order with the work around it: later launches of the function run
// with it.
struct FuncSetAttribute {
  uint64_t function = 0;
  int32_t attribute = 0;  // CUfunction_attribute
  int32_t value = 0;
  template <class F> void fields(F&& f) { f(function); f(attribute); f(value); }
};
struct FuncSetCacheConfig {
  uint64_t function = 0;
  int32_t config = 0;  // CUfunc_cache
  template <class F> void fields(F&& f) { f(function); f(config); }
};

// cuTensorMapEncodeTiled (kTensorMapTiled) and cuTensorMapEncodeIm2col
// (kTensorMapIm2col), with the driver's arguments; its arrays as the bytes of
// their elements: global_dim (rank), global_strides (rank - 1) cuuint64_t;
// box_dim (rank, tiled only), element_strides (rank) cuuint32_t;
// lower_corner, upper_corner (rank - 2, im2col only) int. The enums as the
// driver numbers them. The answer is the 128-byte CUtensorMap.
inline constexpr uint32_t kTensorMapTiled = 0, kTensorMapIm2col = 1;
inline constexpr uint32_t kTensorMapBytes = 128;
struct TensorMapEncode {
  uint32_t kind = kTensorMapTiled;
  uint32_t data_type = 0, rank = 0;
  uint64_t global_address = 0;
  Bytes global_dim, global_strides, box_dim, element_strides, lower_corner, upper_corner;
  uint32_t channels_per_pixel = 0, pixels_per_column = 0;
  uint32_t interleave = 0, swizzle = 0, l2_promotion = 0, oob_fill = 0;
  template <class F> void fields(F&& f) {
    f(kind); f(data_type); f(rank); f(global_address); f(global_dim); f(global_strides); f(box_dim);
    f(element_strides); f(lower_corner); f(upper_corner); f(channels_per_pixel); f(pixels_per_column);
    f(interleave); f(swizzle); f(l2_promotion); f(oob_fill);
  }
};
struct TensorMapEncodeResult {
  Bytes map;  // kTensorMapBytes
  template <class F> void fields(F&& f) { f(map); }
};

struct Launch {
  uint64_t function = 0;
  uint32_t grid[3] = {1, 1, 1};
  uint32_t block[3] = {1, 1, 1};
  uint32_t shared_mem = 0;
  uint64_t stream = 0;
  Bytes params;  // the packed parameter buffer, laid out as the kernel expects
  template <class F> void fields(F&& f) {
    f(function); f(grid[0]); f(grid[1]); f(grid[2]); f(block[0]); f(block[1]); f(block[2]);
    f(shared_mem); f(stream); f(params);
  }
};

// The launch attributes a LaunchEx carries (cuLaunchKernelEx's): `present`
// has bit (1 << id) set for each CUlaunchAttributeID given
// (protocol/launch_attributes.h lists those a launch may carry), whose value
// is then the field of that name; the others' fields are unused.
struct LaunchAttributes {
  uint32_t present = 0;
  uint32_t cooperative = 0;
  uint32_t cluster[3] = {0, 0, 0};
  uint32_t cluster_scheduling = 0;  // CUclusterSchedulingPolicy
  uint32_t programmatic_serialization = 0;
  int32_t priority = 0;
  uint32_t shared_memory_carveout = 0;
  template <class F> void fields(F&& f) {
    f(present); f(cooperative); f(cluster[0]); f(cluster[1]); f(cluster[2]); f(cluster_scheduling);
    f(programmatic_serialization); f(priority); f(shared_memory_carveout);
  }
  friend bool operator==(const LaunchAttributes&, const LaunchAttributes&) = default;
};

// A Launch with attributes. A launch without any is a plain Launch, which
// costs none of these bytes.
struct LaunchEx {
  uint64_t function = 0;
  uint32_t grid[3] = {1, 1, 1};
  uint32_t block[3] = {1, 1, 1};
  uint32_t shared_mem = 0;
  uint64_t stream = 0;
  Bytes params;
  LaunchAttributes attributes;
  template <class F> void fields(F&& f) {
    f(function); f(grid[0]); f(grid[1]); f(grid[2]); f(block[0]); f(block[1]); f(block[2]);
    f(shared_mem); f(stream); f(params);
    attributes.fields(f);
  }
};

// The calls that run a kernel.
constexpr bool launches_kernel(CallOp op) { return op == CallOp::Launch || op == CallOp::LaunchEx; }

struct StreamCreate {
  uint64_t stream = 0;
  uint32_t flags = 0;
  int32_t priority = 0;
  template <class F> void fields(F&& f) { f(stream); f(flags); f(priority); }
};
struct StreamDestroy {
  uint64_t stream = 0;
  template <class F> void fields(F&& f) { f(stream); }
};
struct StreamSynchronize {
  uint64_t stream = 0;
  template <class F> void fields(F&& f) { f(stream); }
};
struct StreamQuery {
  uint64_t stream = 0;
  template <class F> void fields(F&& f) { f(stream); }
};
struct StreamWaitEvent {
  uint64_t stream = 0, event = 0;
  uint32_t flags = 0;
  template <class F> void fields(F&& f) { f(stream); f(event); f(flags); }
};

struct EventCreate {
  uint64_t event = 0;
  uint32_t flags = 0;
  template <class F> void fields(F&& f) { f(event); f(flags); }
};
struct EventDestroy {
  uint64_t event = 0;
  template <class F> void fields(F&& f) { f(event); }
};
struct EventRecord {
  uint64_t event = 0, stream = 0;
  template <class F> void fields(F&& f) { f(event); f(stream); }
};
struct EventSynchronize {
  uint64_t event = 0;
  template <class F> void fields(F&& f) { f(event); }
};
struct EventQuery {
  uint64_t event = 0;
  template <class F> void fields(F&& f) { f(event); }
};
struct EventElapsedTime {
  uint64_t start = 0, end = 0;
  template <class F> void fields(F&& f) { f(start); f(end); }
};
struct EventElapsedTimeResult {
  float milliseconds = 0;
  template <class F> void fields(F&& f) { f(milliseconds); }
};

struct CtxSynchronize {
  template <class F> void fields(F&&) {}
};

// ---------------------------------------------------------------- replay
//
// A template is an operator sequence the client found repeating once per
// inference. The client registers it once; afterwards one ReplaySegment runs
// a stretch of it with fresh inputs instead of the explicit calls.

// `calls` is a batch (batch.h encoding) of operator calls; the bulk offsets
// of its MemcpyHtoD calls are unused (inputs come with each ReplaySegment).
struct TemplateRegister {
  uint32_t tmpl = 0;
  Bytes calls;
  template <class F> void fields(F&& f) { f(tmpl); f(calls); }
};

inline constexpr uint32_t kAllTemplates = 0xffffffffu;
struct TemplateDrop {
  uint32_t tmpl = kAllTemplates;
  template <class F> void fields(F&& f) { f(tmpl); }
};

// Runs template operators [first, last]. Their MemcpyHtoD payloads follow
// one another in the bulk from input_offset. `deltas` replaces the parameter
// buffers of launches whose arguments changed: repeated {u32 position,
// u32 length, bytes}. A MemcpyDtoH may only be the last operator; its bytes
// come back as the reply's bulk.
//
// speculate_to > last asks the server to go on, as registered, with
// [last + 1, speculate_to] (a speculative continuation, DESIGN.md): it first
// saves the memory those operators may write, and the answer is a
// ReplaySegmentResult. The client then ends the speculation with a
// SpeculationEnd before its next operator.
struct ReplaySegment {
  uint32_t tmpl = 0, first = 0, last = 0;
  uint64_t input_offset = 0;
  Bytes deltas;
  uint32_t speculate_to = 0;
  template <class F> void fields(F&& f) { f(tmpl); f(first); f(last); f(input_offset); f(deltas); f(speculate_to); }
};

// The operators a continuation may run: those that need nothing new from
// the host (no upload) and whose effect a server can undo (no event). A
// launch with attributes (LaunchEx, rare) is not run ahead.
constexpr bool runs_ahead(CallOp op) {
  return op == CallOp::Launch || op == CallOp::Memset || op == CallOp::MemcpyDtoD || op == CallOp::MemcpyDtoH ||
         op == CallOp::StreamSynchronize || op == CallOp::CtxSynchronize;
}

// Whether a continuation ran, and if not, why.
#define RRTO_SPECULATION_VERDICTS(X)                                                              \
  X(kSpeculated, "speculated")                                                                    \
  X(kSpecUnsupportedCall, "a call that cannot be speculated (an upload, an event)")               \
  X(kSpecPointerArrays, "a kernel may write through pointers stored in device memory")           \
  X(kSpecTooMuchMemory, "the memory it may write is more than a server saves")                   \
  X(kSpecOutputsTooLarge, "its copies to the host are more than one reply carries")              \
  X(kSpecFailed, "one of its operators failed")                                                  \
  X(kSpecCostsMore, "saving what it may write takes longer than the round trip it saves")
enum SpeculationVerdict : uint32_t {
#define RRTO_SPECULATION_VERDICT_ENUM(name, text) name,
  RRTO_SPECULATION_VERDICTS(RRTO_SPECULATION_VERDICT_ENUM)
#undef RRTO_SPECULATION_VERDICT_ENUM
};
// The verdict in words, for the logs and RRTO_STATS.
const char* speculation_verdict_text(uint32_t verdict);

// The answer to a ReplaySegment with speculate_to > last: `outputs` holds
// the bytes of the continuation's MemcpyDtoH operators, one after another.
// The continuation ran only when verdict is kSpeculated; save_ns is what
// saving the memory it may write took (kSpecCostsMore is the client's own
// verdict when that is more than a round trip).
struct ReplaySegmentResult {
  uint32_t verdict = kSpeculated;
  Bytes outputs;
  uint64_t save_ns = 0;
  template <class F> void fields(F&& f) { f(verdict); f(outputs); f(save_ns); }
};

// Ends the outstanding continuation: the program followed its first `kept`
// operators. The server keeps their effect and undoes the rest (it restores
// what it saved and runs those `kept` again). Nothing to end: no effect.
struct SpeculationEnd {
  uint32_t kept = 0;
  template <class F> void fields(F&& f) { f(kept); }
};

// ------------------------------------------------------------ the bulk

// First call of a batch whose bulk is compressed: the bulk as sent is one
// frame of `codec` that decompresses to exactly `raw_size` bytes, and every
// bulk offset of the batch's calls is an offset into those bytes.
inline constexpr uint32_t kCodecZstd = 1;
struct CompressedBulk {
  uint64_t raw_size = 0;
  uint32_t codec = kCodecZstd;
  template <class F> void fields(F&& f) { f(raw_size); f(codec); }
};

// ---------------------------------------------------------------- traits

// width * height, or UINT64_MAX where that overflows (no bulk is that long).
constexpr uint64_t packed_bytes(uint64_t width, uint64_t height) {
  return height != 0 && width > UINT64_MAX / height ? UINT64_MAX : width * height;
}

// The bytes of the batch's bulk a call with a bulk_offset reads from there.
constexpr uint64_t bulk_bytes(const MemcpyHtoD& c) { return c.size; }
constexpr uint64_t bulk_bytes(const Memcpy2DHtoD& c) { return packed_bytes(c.width, c.height); }
constexpr uint64_t bulk_bytes(const ModuleLoad& c) { return c.size; }

// The operators whose answer is bytes for the host (the reply's bulk): only
// the last call of a batch, or of a replayed segment.
constexpr bool copies_to_host(CallOp op) { return op == CallOp::MemcpyDtoH || op == CallOp::Memcpy2DDtoH; }


// The CallOp of each call struct: defined for the calls only.
template <typename Call>
struct CallOpOf;
#define RRTO_CALL_OP_OF(name, wire, is_operator, builds)  \
  template <>                                     \
  struct CallOpOf<name> {                         \
    static constexpr CallOp value = CallOp::name; \
  };
RRTO_PROTOCOL_CALLS(RRTO_CALL_OP_OF)
#undef RRTO_CALL_OP_OF

template <typename Call>
inline constexpr CallOp kCallOp = CallOpOf<Call>::value;
template <typename Call>
inline constexpr bool kIsOperator = is_operator(kCallOp<Call>);

}  // namespace rrto::proto

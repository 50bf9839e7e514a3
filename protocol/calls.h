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

inline constexpr uint32_t kProtocolVersion = 1;

// Transport-level message opcodes.
enum MessageOp : uint16_t { kBatchRequest = 1, kBatchReply = 2 };

enum class CallOp : uint16_t {
  Hello = 1,
  MemAlloc,
  MemFree,
  MemGetInfo,
  MemcpyHtoD,
  MemcpyDtoH,
  MemcpyDtoD,
  Memset,
  ModuleLoad,
  ModuleUnload,
  ModuleGetFunction,
  ModuleGetGlobal,
  FuncGetAttribute,
  Launch,
  StreamCreate,
  StreamDestroy,
  StreamSynchronize,
  StreamQuery,
  StreamWaitEvent,
  EventCreate,
  EventDestroy,
  EventRecord,
  EventSynchronize,
  EventQuery,
  EventElapsedTime,
  CtxSynchronize,
  TemplateRegister,
  TemplateDrop,
  ReplaySegment,
  Count_,
};

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

struct Hello {
  static constexpr CallOp op = CallOp::Hello;
  uint32_t protocol_version = kProtocolVersion;
  Text auth_token;
  Text client_name;  // for the server's log: program name and pid
  template <class F> void fields(F&& f) { f(protocol_version); f(auth_token); f(client_name); }
};
// The device a session is placed on, as the client presents it.
struct HelloResult {
  uint64_t session_id = 0;
  int32_t driver_version = 0;
  Text device_name;
  Bytes device_uuid;           // 16 bytes
  uint64_t total_memory = 0;
  int32_t pci_domain = 0, pci_bus = 0, pci_device = 0;
  Bytes attributes;            // int32_t per CUdevice_attribute, index = attribute
  template <class F> void fields(F&& f) {
    f(session_id); f(driver_version); f(device_name); f(device_uuid); f(total_memory);
    f(pci_domain); f(pci_bus); f(pci_device); f(attributes);
  }
};

struct MemAlloc {
  static constexpr CallOp op = CallOp::MemAlloc;
  uint64_t size = 0;
  template <class F> void fields(F&& f) { f(size); }
};
struct MemAllocResult {
  uint64_t dptr = 0;
  template <class F> void fields(F&& f) { f(dptr); }
};

struct MemFree {
  static constexpr CallOp op = CallOp::MemFree;
  uint64_t dptr = 0;
  template <class F> void fields(F&& f) { f(dptr); }
};

struct MemGetInfo {
  static constexpr CallOp op = CallOp::MemGetInfo;
  template <class F> void fields(F&&) {}
};
struct MemGetInfoResult {
  uint64_t free = 0, total = 0;
  template <class F> void fields(F&& f) { f(free); f(total); }
};

// The payload is bytes [bulk_offset, bulk_offset + size) of the batch's bulk.
struct MemcpyHtoD {
  static constexpr CallOp op = CallOp::MemcpyHtoD;
  uint64_t dst = 0, size = 0, bulk_offset = 0, stream = 0;
  template <class F> void fields(F&& f) { f(dst); f(size); f(bulk_offset); f(stream); }
};

// Only as the last call of a batch: the bytes come back as the reply's bulk.
struct MemcpyDtoH {
  static constexpr CallOp op = CallOp::MemcpyDtoH;
  uint64_t src = 0, size = 0, stream = 0;
  template <class F> void fields(F&& f) { f(src); f(size); f(stream); }
};

struct MemcpyDtoD {
  static constexpr CallOp op = CallOp::MemcpyDtoD;
  uint64_t dst = 0, src = 0, size = 0, stream = 0;
  template <class F> void fields(F&& f) { f(dst); f(src); f(size); f(stream); }
};

struct Memset {
  static constexpr CallOp op = CallOp::Memset;
  uint64_t dst = 0;
  uint32_t value = 0;
  uint32_t element_size = 1;  // 1, 2 or 4
  uint64_t count = 0;         // elements
  uint64_t stream = 0;
  template <class F> void fields(F&& f) { f(dst); f(value); f(element_size); f(count); f(stream); }
};

// The image is bytes [bulk_offset, bulk_offset + size) of the batch's bulk.
struct ModuleLoad {
  static constexpr CallOp op = CallOp::ModuleLoad;
  uint64_t module = 0;  // client-minted id
  uint64_t bulk_offset = 0, size = 0;
  template <class F> void fields(F&& f) { f(module); f(bulk_offset); f(size); }
};

struct ModuleUnload {
  static constexpr CallOp op = CallOp::ModuleUnload;
  uint64_t module = 0;
  template <class F> void fields(F&& f) { f(module); }
};

// The client sends the parameter layout it parsed from the image; the server
// confirms it against what its backend knows of the kernel.
struct ModuleGetFunction {
  static constexpr CallOp op = CallOp::ModuleGetFunction;
  uint64_t module = 0;
  uint64_t function = 0;  // client-minted id
  Text name;
  Bytes param_layout;     // uint32_t pairs (offset, size)
  template <class F> void fields(F&& f) { f(module); f(function); f(name); f(param_layout); }
};

struct ModuleGetGlobal {
  static constexpr CallOp op = CallOp::ModuleGetGlobal;
  uint64_t module = 0;
  Text name;
  template <class F> void fields(F&& f) { f(module); f(name); }
};
struct ModuleGetGlobalResult {
  uint64_t dptr = 0, size = 0;
  template <class F> void fields(F&& f) { f(dptr); f(size); }
};

struct FuncGetAttribute {
  static constexpr CallOp op = CallOp::FuncGetAttribute;
  uint64_t function = 0;
  int32_t attribute = 0;
  template <class F> void fields(F&& f) { f(function); f(attribute); }
};
struct FuncGetAttributeResult {
  int32_t value = 0;
  template <class F> void fields(F&& f) { f(value); }
};

struct Launch {
  static constexpr CallOp op = CallOp::Launch;
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

struct StreamCreate {
  static constexpr CallOp op = CallOp::StreamCreate;
  uint64_t stream = 0;
  uint32_t flags = 0;
  int32_t priority = 0;
  template <class F> void fields(F&& f) { f(stream); f(flags); f(priority); }
};
struct StreamDestroy {
  static constexpr CallOp op = CallOp::StreamDestroy;
  uint64_t stream = 0;
  template <class F> void fields(F&& f) { f(stream); }
};
struct StreamSynchronize {
  static constexpr CallOp op = CallOp::StreamSynchronize;
  uint64_t stream = 0;
  template <class F> void fields(F&& f) { f(stream); }
};
struct StreamQuery {
  static constexpr CallOp op = CallOp::StreamQuery;
  uint64_t stream = 0;
  template <class F> void fields(F&& f) { f(stream); }
};
struct StreamWaitEvent {
  static constexpr CallOp op = CallOp::StreamWaitEvent;
  uint64_t stream = 0, event = 0;
  uint32_t flags = 0;
  template <class F> void fields(F&& f) { f(stream); f(event); f(flags); }
};

struct EventCreate {
  static constexpr CallOp op = CallOp::EventCreate;
  uint64_t event = 0;
  uint32_t flags = 0;
  template <class F> void fields(F&& f) { f(event); f(flags); }
};
struct EventDestroy {
  static constexpr CallOp op = CallOp::EventDestroy;
  uint64_t event = 0;
  template <class F> void fields(F&& f) { f(event); }
};
struct EventRecord {
  static constexpr CallOp op = CallOp::EventRecord;
  uint64_t event = 0, stream = 0;
  template <class F> void fields(F&& f) { f(event); f(stream); }
};
struct EventSynchronize {
  static constexpr CallOp op = CallOp::EventSynchronize;
  uint64_t event = 0;
  template <class F> void fields(F&& f) { f(event); }
};
struct EventQuery {
  static constexpr CallOp op = CallOp::EventQuery;
  uint64_t event = 0;
  template <class F> void fields(F&& f) { f(event); }
};
struct EventElapsedTime {
  static constexpr CallOp op = CallOp::EventElapsedTime;
  uint64_t start = 0, end = 0;
  template <class F> void fields(F&& f) { f(start); f(end); }
};
struct EventElapsedTimeResult {
  float milliseconds = 0;
  template <class F> void fields(F&& f) { f(milliseconds); }
};

struct CtxSynchronize {
  static constexpr CallOp op = CallOp::CtxSynchronize;
  template <class F> void fields(F&&) {}
};

// ---------------------------------------------------------------- replay
//
// A template is an operator sequence the client found repeating once per
// inference. The client registers it once; afterwards one ReplaySegment runs
// a stretch of it with fresh inputs instead of the explicit calls.

// Calls that are operators: the only calls a template may hold.
template <typename Call>
inline constexpr bool kIsOperator = false;
template <> inline constexpr bool kIsOperator<Launch> = true;
template <> inline constexpr bool kIsOperator<MemcpyHtoD> = true;
template <> inline constexpr bool kIsOperator<MemcpyDtoH> = true;
template <> inline constexpr bool kIsOperator<MemcpyDtoD> = true;
template <> inline constexpr bool kIsOperator<Memset> = true;
template <> inline constexpr bool kIsOperator<EventRecord> = true;
template <> inline constexpr bool kIsOperator<StreamWaitEvent> = true;
template <> inline constexpr bool kIsOperator<StreamSynchronize> = true;
template <> inline constexpr bool kIsOperator<CtxSynchronize> = true;

// `calls` is a batch (batch.h encoding) of operator calls; the bulk offsets
// of its MemcpyHtoD calls are unused (inputs come with each ReplaySegment).
struct TemplateRegister {
  static constexpr CallOp op = CallOp::TemplateRegister;
  uint32_t tmpl = 0;
  Bytes calls;
  template <class F> void fields(F&& f) { f(tmpl); f(calls); }
};

inline constexpr uint32_t kAllTemplates = 0xffffffffu;
struct TemplateDrop {
  static constexpr CallOp op = CallOp::TemplateDrop;
  uint32_t tmpl = kAllTemplates;
  template <class F> void fields(F&& f) { f(tmpl); }
};

// Runs template operators [first, last]. Their MemcpyHtoD payloads follow
// one another in the bulk from input_offset. `deltas` replaces the parameter
// buffers of launches whose arguments changed: repeated {u32 position,
// u32 length, bytes}. A MemcpyDtoH may only be the last operator; its bytes
// come back as the reply's bulk.
struct ReplaySegment {
  static constexpr CallOp op = CallOp::ReplaySegment;
  uint32_t tmpl = 0, first = 0, last = 0;
  uint64_t input_offset = 0;
  Bytes deltas;
  template <class F> void fields(F&& f) { f(tmpl); f(first); f(last); f(input_offset); f(deltas); }
};

}  // namespace rrto::proto

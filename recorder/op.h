// The operator model: one Op per intercepted driver call that matters for
// replay. An Op is a small value (144 bytes, no heap) built on the
// client's hot path; its argument bytes are borrowed, not owned (see `args`).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "recorder/kernel.h"

namespace rrto {

enum class OpKind : uint8_t {
  KernelLaunch = 0,
  MemcpyHtoD,
  MemcpyDtoH,
  MemcpyDtoD,
  Memset,
  EventRecord,
  StreamWaitEvent,
  StreamSynchronize,
  ContextSynchronize,
};
inline constexpr size_t kOpKindCount = 9;

const char* op_kind_name(OpKind kind);  // "launch", "memcpy_htod", ...
bool is_copy(OpKind kind);

// Op::flags
inline constexpr uint8_t kOpAsync = 1u << 0;  // the *Async variant of a copy or memset
// A 2D copy or memset: `rows` rows, each side's `pitch` bytes apart (a host
// side's pitch is the program's own: a reference, as its address is).
inline constexpr uint8_t kOp2D = 1u << 1;

struct Dim3 {
  uint32_t x = 1, y = 1, z = 1;
  friend bool operator==(const Dim3&, const Dim3&) = default;
};

struct Op {
  OpKind kind = OpKind::ContextSynchronize;
  uint8_t flags = 0;
  uint8_t elem_size = 0;  // memset element size: 1, 2 or 4
  uint32_t shared_mem = 0;
  const KernelDef* kernel = nullptr;  // launches; owned by a KernelTable
  Dim3 grid, block;
  uint64_t stream = 0;  // the client's stream handle id; 0 = default stream
  // Copies: HtoD dst=device src=host; DtoH dst=host src=device; DtoD both
  // device. Memset: dst. The host side is a reference only: no payload here.
  uint64_t dst = 0, src = 0;
  uint64_t bytes = 0;  // copy or memset size in bytes
  // Memset value; StreamWaitEvent: its flags; a launch: a hash of its launch
  // attributes (cuLaunchKernelEx), 0 when it has none.
  uint64_t value = 0;
  uint64_t event = 0;  // event handle id for EventRecord / StreamWaitEvent
  // kOp2D: `bytes` is rows * the row's width; the destination's and the
  // source's pitches (a memset's is dst_pitch).
  uint64_t rows = 0, dst_pitch = 0, src_pitch = 0;
  // Packed kernel parameter buffer, laid out as kernel->params says. Borrowed:
  // whoever builds the Op keeps these bytes alive while the Op is in use, or
  // stores them in an ArgArena (a Trace does).
  const uint8_t* args = nullptr;
  uint32_t args_size = 0;
  // Set by seal(): kind, flags, kernel, geometry, shared memory, launch
  // attributes, sizes (copy/memset bytes, argument buffer size), stream...
  uint64_t structural_sig = 0;
  // ...plus argument bytes, device pointers, memset value and event.
  uint64_t full_sig = 0;

  std::span<const uint8_t> arg_bytes() const { return {args, args_size}; }
  bool async() const { return (flags & kOpAsync) != 0; }
  bool is_2d() const { return (flags & kOp2D) != 0; }

  // Factories return sealed ops. Direction is in the kind.
  static Op launch(const KernelDef& kernel, Dim3 grid, Dim3 block, uint32_t shared_mem, uint64_t stream,
                   std::span<const uint8_t> args);
  static Op memcpy_htod(uint64_t dst_device, uint64_t src_host, uint64_t bytes, uint64_t stream, bool async);
  static Op memcpy_dtoh(uint64_t dst_host, uint64_t src_device, uint64_t bytes, uint64_t stream, bool async);
  static Op memcpy_dtod(uint64_t dst_device, uint64_t src_device, uint64_t bytes, uint64_t stream, bool async);
  // cuMemsetD8/D16/D32: `count` elements of `elem_size` bytes.
  static Op memset_d(uint64_t dst, uint64_t value, uint8_t elem_size, uint64_t count, uint64_t stream, bool async);
  // A 2D copy of `rows` rows of `width` bytes, `kind` its direction; a 2D
  // memset of `rows` rows of `count` elements.
  static Op memcpy_2d(OpKind kind, uint64_t dst, uint64_t dst_pitch, uint64_t src, uint64_t src_pitch, uint64_t width,
                      uint64_t rows, uint64_t stream, bool async);
  static Op memset_2d(uint64_t dst, uint64_t pitch, uint64_t value, uint8_t elem_size, uint64_t count, uint64_t rows,
                      uint64_t stream, bool async);
  static Op event_record(uint64_t event, uint64_t stream);
  static Op stream_wait_event(uint64_t stream, uint64_t event, uint32_t flags);
  static Op stream_synchronize(uint64_t stream);
  static Op context_synchronize();

  // Recomputes both signatures; call after changing any field by hand.
  void seal();
};

// The bytes that tell two structurally equal ops apart: kernel arguments, or
// for other kinds their device pointers, memset value or event, packed into
// `scratch`. The full signature hashes exactly these.
std::span<const uint8_t> op_operands(const Op& op, std::array<uint8_t, 16>& scratch);
// How op_operands() splits into parameters: the kernel's layout for launches
// (empty when unknown), fixed 8-byte slots for the other kinds.
std::span<const KernelParam> operand_layout(OpKind kind, const KernelDef* kernel);
inline std::span<const KernelParam> operand_layout(const Op& op) { return operand_layout(op.kind, op.kernel); }

}  // namespace rrto

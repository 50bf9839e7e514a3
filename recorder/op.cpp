#include "recorder/op.h"

#include <cstring>

#include "recorder/hash.h"

namespace rrto {

const char* op_kind_name(OpKind kind) {
  switch (kind) {
    case OpKind::KernelLaunch: return "launch";
    case OpKind::MemcpyHtoD: return "memcpy_htod";
    case OpKind::MemcpyDtoH: return "memcpy_dtoh";
    case OpKind::MemcpyDtoD: return "memcpy_dtod";
    case OpKind::Memset: return "memset";
    case OpKind::EventRecord: return "event_record";
    case OpKind::StreamWaitEvent: return "stream_wait_event";
    case OpKind::StreamSynchronize: return "stream_synchronize";
    case OpKind::ContextSynchronize: return "context_synchronize";
  }
  return "unknown";
}

bool is_copy(OpKind kind) {
  return kind == OpKind::MemcpyHtoD || kind == OpKind::MemcpyDtoH || kind == OpKind::MemcpyDtoD;
}

Op Op::launch(const KernelDef& kernel, Dim3 grid, Dim3 block, uint32_t shared_mem, uint64_t stream,
              std::span<const uint8_t> args) {
  Op op;
  op.kind = OpKind::KernelLaunch;
  op.kernel = &kernel;
  op.grid = grid;
  op.block = block;
  op.shared_mem = shared_mem;
  op.stream = stream;
  op.args = args.data();
  op.args_size = static_cast<uint32_t>(args.size());
  op.seal();
  return op;
}

namespace {

Op make_copy(OpKind kind, uint64_t dst, uint64_t src, uint64_t bytes, uint64_t stream, bool async) {
  Op op;
  op.kind = kind;
  op.flags = async ? kOpAsync : 0;
  op.dst = dst;
  op.src = src;
  op.bytes = bytes;
  op.stream = stream;
  op.seal();
  return op;
}

}  // namespace

Op Op::memcpy_htod(uint64_t dst_device, uint64_t src_host, uint64_t bytes, uint64_t stream, bool async) {
  return make_copy(OpKind::MemcpyHtoD, dst_device, src_host, bytes, stream, async);
}

Op Op::memcpy_dtoh(uint64_t dst_host, uint64_t src_device, uint64_t bytes, uint64_t stream, bool async) {
  return make_copy(OpKind::MemcpyDtoH, dst_host, src_device, bytes, stream, async);
}

Op Op::memcpy_dtod(uint64_t dst_device, uint64_t src_device, uint64_t bytes, uint64_t stream, bool async) {
  return make_copy(OpKind::MemcpyDtoD, dst_device, src_device, bytes, stream, async);
}

Op Op::memset_d(uint64_t dst, uint64_t value, uint8_t elem_size, uint64_t count, uint64_t stream, bool async) {
  Op op;
  op.kind = OpKind::Memset;
  op.flags = async ? kOpAsync : 0;
  op.dst = dst;
  op.value = value;
  op.elem_size = elem_size;
  op.bytes = count * elem_size;
  op.stream = stream;
  op.seal();
  return op;
}

Op Op::memcpy_2d(OpKind kind, uint64_t dst, uint64_t dst_pitch, uint64_t src, uint64_t src_pitch, uint64_t width,
                  uint64_t rows, uint64_t stream, bool async) {
  Op op = make_copy(kind, dst, src, width * rows, stream, async);
  op.flags |= kOp2D;
  op.rows = rows;
  op.dst_pitch = dst_pitch;
  op.src_pitch = src_pitch;
  op.seal();
  return op;
}

Op Op::memset_2d(uint64_t dst, uint64_t pitch, uint64_t value, uint8_t elem_size, uint64_t count, uint64_t rows,
                 uint64_t stream, bool async) {
  Op op = memset_d(dst, value, elem_size, count * rows, stream, async);
  op.flags |= kOp2D;
  op.rows = rows;
  op.dst_pitch = pitch;
  op.seal();
  return op;
}

Op Op::event_record(uint64_t event, uint64_t stream) {
  Op op;
  op.kind = OpKind::EventRecord;
  op.event = event;
  op.stream = stream;
  op.seal();
  return op;
}

Op Op::stream_wait_event(uint64_t stream, uint64_t event, uint32_t flags) {
  Op op;
  op.kind = OpKind::StreamWaitEvent;
  op.event = event;
  op.value = flags;
  op.stream = stream;
  op.seal();
  return op;
}

Op Op::stream_synchronize(uint64_t stream) {
  Op op;
  op.kind = OpKind::StreamSynchronize;
  op.stream = stream;
  op.seal();
  return op;
}

Op Op::context_synchronize() {
  Op op;
  op.kind = OpKind::ContextSynchronize;
  op.seal();
  return op;
}

void Op::seal() {
  const uint64_t head = static_cast<uint64_t>(kind) | static_cast<uint64_t>(flags) << 8 |
                        static_cast<uint64_t>(elem_size) << 16 | static_cast<uint64_t>(shared_mem) << 32;
  uint64_t h = hash_mix(head, (kernel ? kernel->key : 0) ^ kHashSeed);
  h = hash_mix(h ^ (grid.x | static_cast<uint64_t>(grid.y) << 32), grid.z | static_cast<uint64_t>(block.x) << 32);
  h = hash_mix(h ^ (block.y | static_cast<uint64_t>(block.z) << 32), bytes ^ 0x2d358dccaa6c78a5ull);
  if (is_2d()) h = hash_mix(hash_mix(h ^ rows, dst_pitch ^ 0x9e3779b97f4a7c15ull), src_pitch);
  if (kind == OpKind::KernelLaunch && value != 0) h = hash_mix(h ^ value, 0x94d049bb133111ebull);
  structural_sig = hash_mix(h ^ args_size, stream ^ 0x8bb84b93962eacc9ull);
  std::array<uint8_t, 16> scratch;
  const auto operands = op_operands(*this, scratch);
  full_sig = hash_bytes(operands.data(), operands.size(), structural_sig);
}

std::span<const uint8_t> op_operands(const Op& op, std::array<uint8_t, 16>& scratch) {
  auto pack = [&](uint64_t a) {
    std::memcpy(scratch.data(), &a, 8);
    return std::span<const uint8_t>(scratch.data(), 8);
  };
  auto pack2 = [&](uint64_t a, uint64_t b) {
    std::memcpy(scratch.data(), &a, 8);
    std::memcpy(scratch.data() + 8, &b, 8);
    return std::span<const uint8_t>(scratch.data(), 16);
  };
  switch (op.kind) {
    case OpKind::KernelLaunch: return op.arg_bytes();
    case OpKind::MemcpyHtoD: return pack(op.dst);
    case OpKind::MemcpyDtoH: return pack(op.src);
    case OpKind::MemcpyDtoD: return pack2(op.dst, op.src);
    case OpKind::Memset: return pack2(op.dst, op.value);
    case OpKind::EventRecord: return pack(op.event);
    case OpKind::StreamWaitEvent: return pack2(op.event, op.value);
    case OpKind::StreamSynchronize:
    case OpKind::ContextSynchronize: break;
  }
  return {};
}

std::span<const KernelParam> operand_layout(OpKind kind, const KernelDef* kernel) {
  static constexpr KernelParam kOne[] = {{0, 8}};
  static constexpr KernelParam kTwo[] = {{0, 8}, {8, 8}};
  switch (kind) {
    case OpKind::KernelLaunch: return kernel ? std::span<const KernelParam>(kernel->params) : std::span<const KernelParam>();
    case OpKind::MemcpyHtoD:
    case OpKind::MemcpyDtoH:
    case OpKind::EventRecord: return kOne;
    case OpKind::StreamWaitEvent:
    case OpKind::MemcpyDtoD:
    case OpKind::Memset: return kTwo;
    case OpKind::StreamSynchronize:
    case OpKind::ContextSynchronize: break;
  }
  return {};
}

}  // namespace rrto

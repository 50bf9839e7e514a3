// The trace file format, shared by TraceWriter and TraceReader. All integers
// little-endian.
//
//   file    := header record* end-record
//   header  := magic "RRTOTRC\0" | u32 version | u32 reserved (0)
//   record  := u8 tag | u32 length | payload[length] | u32 check
//              check = low 32 bits of hash_bytes(payload, seed kHashSeed ^ tag)
//   kernel  (tag 1): u32 id | u64 module_hash | u32 len, name | u32 n | n x (u32 offset, u32 size)
//                    written before the first op that launches it
//   op      (tag 2): u8 kind | u8 flags | by kind:
//     launch            u32 kernel id | u32 grid[3] | u32 block[3] | u32 shared_mem | u64 stream
//                       | u32 len, argument bytes
//     memcpy_*          u64 dst | u64 src | u64 bytes | u64 stream
//     memset            u64 dst | u64 value | u8 elem_size | u64 bytes | u64 stream
//     event_record      u64 event | u64 stream
//     stream_wait_event u64 stream | u64 event | u32 flags
//     stream_sync       u64 stream
//     context_sync      (nothing)
//     then, with flag kOp2D (a 2D copy or memset): u64 rows | u64 dst_pitch | u64 src_pitch
//   end     (tag 3): u64 op count | u32 kernel count; nothing may follow it
//
// Signatures are not stored: the reader recomputes them, so a file never
// carries a signature that disagrees with its contents.
#pragma once

#include <cstdint>

namespace rrto::trace_format {

inline constexpr char kMagic[8] = {'R', 'R', 'T', 'O', 'T', 'R', 'C', '\0'};
// 3: kOp2D ops. A version-2 trace reads the same (it has none).
inline constexpr uint32_t kVersion = 3;
inline constexpr uint32_t kOldestVersion = 2;
inline constexpr size_t kHeaderBytes = 16;
inline constexpr size_t kRecordOverhead = 1 + 4 + 4;  // tag, length, check

enum Tag : uint8_t { kTagKernel = 1, kTagOp = 2, kTagEnd = 3 };

// Sanity limits a reader enforces: a value past one of these is corruption.
inline constexpr uint32_t kMaxRecordBytes = 16u << 20;
inline constexpr uint32_t kMaxNameBytes = 64u << 10;
inline constexpr uint32_t kMaxParams = 16u << 10;
inline constexpr uint32_t kMaxArgBytes = 1u << 20;

}  // namespace rrto::trace_format

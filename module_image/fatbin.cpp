#include "module_image/fatbin.h"

#include <cstring>
#include <string_view>

#include "module_image/decompress.h"
#include "module_image/ptx.h"
#include "common/codec.h"
#include "common/log.h"

namespace rrto {
namespace {

constexpr uint32_t kFatbinMagic = 0xBA55ED50;
constexpr uint16_t kFatbinVersion = 1;
constexpr size_t kFatbinHeaderSize = 16;

constexpr uint16_t kKindPtx = 1;
constexpr uint16_t kKindElf = 2;

constexpr uint64_t kFlagLz4 = 0x2000;
constexpr uint64_t kFlagZstd = 0x8000;

// Fields used from an entry header; CUDA 13 writes 64 (ELF), 80 (PTX) or
// 120 (LTO IR) bytes, the fields below are common to all.
constexpr size_t kEntryHeaderMin = 64;
// A larger claimed size is a malformed header, not a real module.
constexpr uint64_t kMaxUncompressed = uint64_t{1} << 30;

constexpr const char* kLog = "module_image";

struct FatbinHeader {
  uint32_t magic = 0;
  uint16_t version = 0, header_size = 0;
  uint64_t fat_size = 0;
};

struct EntryHeader {
  uint16_t kind = 0, version = 0;
  uint32_t header_size = 0;
  uint64_t payload_size = 0;
  uint32_t compressed_size = 0;
  uint64_t flags = 0;
  uint64_t uncompressed_size = 0;
};

Status read_header(Bytes b, FatbinHeader& h) {
  ByteReader r(b);
  r.get(h.magic);
  r.get(h.version);
  r.get(h.header_size);
  r.get(h.fat_size);
  if (r.failed() || h.magic != kFatbinMagic) return Status::InvalidArgument;
  if (h.version != kFatbinVersion) {
    RRTO_WARN(kLog, "fatbin version {} is not supported", h.version);
    return Status::NotSupported;
  }
  if (h.header_size < kFatbinHeaderSize) return Status::InvalidArgument;
  return Status::Ok;
}

Status read_entry_header(Bytes b, EntryHeader& e) {
  ByteReader r(b);
  uint32_t unknown = 0, arch = 0, name_offset = 0, name_size = 0;
  uint16_t minor = 0, major = 0;
  uint64_t reserved = 0;
  r.get(e.kind);
  r.get(e.version);
  r.get(e.header_size);
  r.get(e.payload_size);
  r.get(e.compressed_size);
  r.get(unknown);
  r.get(minor);
  r.get(major);
  r.get(arch);
  r.get(name_offset);
  r.get(name_size);
  r.get(e.flags);
  r.get(reserved);
  r.get(e.uncompressed_size);
  if (r.failed() || e.header_size < kEntryHeaderMin) return Status::InvalidArgument;
  return Status::Ok;
}

// The entry's payload, decompressed into `storage` when it is compressed.
Status payload_bytes(const EntryHeader& e, Bytes payload, std::vector<uint8_t>& storage, Bytes& out) {
  const uint64_t method = e.flags & (kFlagLz4 | kFlagZstd);
  if (method == 0) {
    out = payload;
    return Status::Ok;
  }
  Bytes in;
  if (e.compressed_size == 0 || !slice(payload, 0, e.compressed_size, in)) return Status::InvalidArgument;
  const uint64_t n = e.uncompressed_size;
  if (n == 0 || n > kMaxUncompressed) return Status::InvalidArgument;
  Status st;
  if (method == kFlagZstd) {
    st = zstd_decompress(in, n, storage);
  } else if (method == kFlagLz4) {
    st = lz4_block_decompress(in, n, storage);
  } else {
    RRTO_WARN(kLog, "fatbin entry with compression flags {:#x} is not supported", method);
    return Status::NotSupported;
  }
  if (!ok(st)) {
    RRTO_WARN(kLog, "fatbin entry does not decompress");
    return st;
  }
  out = storage;
  return Status::Ok;
}

Status parse_entry(const EntryHeader& e, Bytes payload, FatbinContents& out) {
  if (e.kind != kKindElf && e.kind != kKindPtx) {
    RRTO_DEBUG(kLog, "skipping fatbin entry of kind {}", e.kind);
    return Status::Ok;
  }
  std::vector<uint8_t> storage;
  Bytes data;
  if (Status st = payload_bytes(e, payload, storage, data); !ok(st)) return st;
  if (e.kind == kKindElf) {
    size_t size = 0;
    if (Status st = elf_image_size(data.data(), data.size(), size); !ok(st)) return st;
    CubinContents cubin;
    if (Status st = parse_cubin(data.first(size), cubin); !ok(st)) return st;
    out.cubins.push_back(std::move(cubin));
    return Status::Ok;
  }
  // PTX text ends at its NUL (the payload is padded) or at the payload's end.
  const auto* text = reinterpret_cast<const char*>(data.data());
  const std::string_view ptx(text, strnlen(text, data.size()));
  std::vector<KernelInfo> kernels;
  Status st = looks_like_ptx(ptx) ? parse_ptx(ptx, kernels) : Status::InvalidArgument;
  if (!ok(st)) {
    out.ptx_errors.push_back(st);
    return Status::Ok;
  }
  out.ptxs.push_back(std::move(kernels));
  return Status::Ok;
}

}  // namespace

Status fatbin_image_size(const uint8_t* p, size_t max_bytes, size_t& size) {
  if (max_bytes < kFatbinHeaderSize) return Status::InvalidArgument;
  FatbinHeader h;
  if (Status st = read_header(Bytes(p, kFatbinHeaderSize), h); !ok(st)) return st;
  if (!fits(h.header_size, h.fat_size, max_bytes)) return Status::InvalidArgument;
  size = static_cast<size_t>(h.header_size + h.fat_size);
  return Status::Ok;
}

Status parse_fatbin(Bytes image, FatbinContents& out) {
  FatbinHeader h;
  if (Status st = read_header(image, h); !ok(st)) return st;
  Bytes entries;
  if (!slice(image, h.header_size, h.fat_size, entries)) return Status::InvalidArgument;
  uint64_t off = 0;
  while (off < entries.size()) {
    Bytes rest = entries.subspan(off);
    EntryHeader e;
    if (Status st = read_entry_header(rest, e); !ok(st)) return st;
    Bytes payload;
    if (!slice(rest, e.header_size, e.payload_size, payload)) return Status::InvalidArgument;
    if (Status st = parse_entry(e, payload, out); !ok(st)) return st;
    off += e.header_size + e.payload_size;
  }
  if (!out.ptx_errors.empty()) {
    // The driver runs a cubin when there is one, so an unreadable PTX entry
    // beside cubins costs at most the kernels only it has.
    if (out.cubins.empty()) return out.ptx_errors.front();
    RRTO_WARN(kLog, "{} PTX entries of a fatbin with {} cubins do not parse; using the cubins", out.ptx_errors.size(),
              out.cubins.size());
  }
  return Status::Ok;
}

}  // namespace rrto

#include "module_image/fatbin.h"

#include <string_view>

#include "common/codec.h"
#include "common/log.h"
#include "module_image/decompress.h"
#include "module_image/ptx.h"

namespace rrto {
namespace {

constexpr uint16_t kFatbinVersion = 1;
constexpr size_t kFatbinHeaderSize = 16;

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

// The header of the entry at the start of `b`; its size is `header_size`,
// the payload follows.
Status read_entry_header(Bytes b, FatbinEntry& e, uint32_t& header_size, uint64_t& payload_size) {
  ByteReader r(b);
  uint16_t version = 0, minor = 0, major = 0;
  uint32_t unknown = 0, arch = 0, name_offset = 0, name_size = 0;
  uint64_t reserved = 0;
  r.get(e.kind);
  r.get(version);
  r.get(header_size);
  r.get(payload_size);
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
  if (r.failed() || header_size < kEntryHeaderMin) return Status::InvalidArgument;
  return Status::Ok;
}

Status parse_entry(const FatbinEntry& e, FatbinContents& out) {
  if (e.kind != kFatbinKindElf && e.kind != kFatbinKindPtx) {
    RRTO_DEBUG(kLog, "skipping fatbin entry of kind {}", e.kind);
    return Status::Ok;
  }
  std::vector<uint8_t> storage;
  Bytes data;
  if (Status st = entry_data(e, storage, data); !ok(st)) return st;
  if (e.kind == kFatbinKindElf) {
    size_t size = 0;
    if (Status st = elf_image_size(data.data(), data.size(), size); !ok(st)) return st;
    CubinContents cubin;
    if (Status st = parse_cubin(data.first(size), cubin); !ok(st)) return st;
    out.cubins.push_back(std::move(cubin));
    return Status::Ok;
  }
  // PTX text ends at its NUL inside the (padded) payload: the driver reads it
  // as a C string, so an entry without one is malformed, not just unreadable.
  std::string_view ptx;
  if (!terminated_text(data.data(), data.size(), ptx)) return Status::InvalidArgument;
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

Status FatbinReader::open(Bytes image) {
  FatbinHeader h;
  if (Status st = read_header(image, h); !ok(st)) return status_ = st;
  if (!slice(image, h.header_size, h.fat_size, entries_)) return status_ = Status::InvalidArgument;
  header_size_ = h.header_size;
  at_ = next_ = 0;
  return status_ = Status::Ok;
}

bool FatbinReader::next(FatbinEntry& e) {
  at_ = next_;
  if (!ok(status_) || at_ >= entries_.size()) return false;
  const Bytes rest = entries_.subspan(at_);
  uint32_t header_size = 0;
  uint64_t payload_size = 0;
  if (Status st = read_entry_header(rest, e, header_size, payload_size); !ok(st)) {
    status_ = st;
    return false;
  }
  if (!slice(rest, header_size, payload_size, e.payload)) {
    status_ = Status::InvalidArgument;
    return false;
  }
  next_ = at_ + header_size + payload_size;
  return true;
}

Status entry_data(const FatbinEntry& e, std::vector<uint8_t>& storage, Bytes& out) {
  const uint64_t method = e.flags & (kFlagLz4 | kFlagZstd);
  if (method == 0) {
    out = e.payload;
    return Status::Ok;
  }
  Bytes in;
  if (e.compressed_size == 0 || !slice(e.payload, 0, e.compressed_size, in)) return Status::InvalidArgument;
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

Status fatbin_image_size(const uint8_t* p, size_t max_bytes, size_t& size) {
  if (max_bytes < kFatbinHeaderSize) return Status::InvalidArgument;
  FatbinHeader h;
  if (Status st = read_header(Bytes(p, kFatbinHeaderSize), h); !ok(st)) return st;
  if (!fits(h.header_size, h.fat_size, max_bytes)) return Status::InvalidArgument;
  size = static_cast<size_t>(h.header_size + h.fat_size);
  return Status::Ok;
}

Status parse_fatbin(Bytes image, FatbinContents& out) {
  FatbinReader reader;
  if (Status st = reader.open(image); !ok(st)) return st;
  FatbinEntry e;
  while (reader.next(e)) {
    if (Status st = parse_entry(e, out); !ok(st)) return st;
  }
  if (!ok(reader.status())) return reader.status();
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

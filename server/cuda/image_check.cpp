#include "server/cuda/image_check.h"

#include <fmt/format.h>

#include "common/codec.h"

namespace rrto::server::cuda {
namespace {

constexpr uint32_t kFatbinMagic = 0xBA55ED50;
constexpr uint32_t kFatbinWrapperMagic = 0x466243b1;
constexpr size_t kFatbinHeaderSize = 16;
constexpr size_t kFatbinEntryHeaderMin = 16;  // kind, version, header size, payload size

bool within(uint64_t offset, uint64_t size, uint64_t limit) { return offset <= limit && size <= limit - offset; }

bool check_fatbin(std::span<const uint8_t> image, std::string& why) {
  ByteReader r(image);
  uint32_t magic = 0;
  uint16_t version = 0, header_size = 0;
  uint64_t fat_size = 0;
  r.get(magic);
  r.get(version);
  r.get(header_size);
  r.get(fat_size);
  if (r.failed() || header_size < kFatbinHeaderSize || !within(header_size, fat_size, image.size())) {
    why = fmt::format("fatbin claims {} + {} bytes, the image has {}", header_size, fat_size, image.size());
    return false;
  }
  // Each entry: u16 kind, u16 version, u32 header size, u64 payload size, ...
  const auto entries = image.subspan(header_size, fat_size);
  uint64_t at = 0;
  while (at < entries.size()) {
    ByteReader e(entries.subspan(at));
    uint16_t kind = 0, entry_version = 0;
    uint32_t entry_header = 0;
    uint64_t payload = 0;
    e.get(kind);
    e.get(entry_version);
    e.get(entry_header);
    e.get(payload);
    if (e.failed() || entry_header < kFatbinEntryHeaderMin ||
        !within(at, uint64_t{entry_header} + payload, entries.size()) || uint64_t{entry_header} + payload < payload) {
      why = fmt::format("fatbin entry at offset {} runs past the end of the image", header_size + at);
      return false;
    }
    at += entry_header + payload;
  }
  return true;
}

bool check_elf(std::span<const uint8_t> image, std::string& why) {
  // ELF64 little-endian only: what nvcc writes for every supported GPU.
  if (image.size() < 64 || image[4] != 2 || image[5] != 1) {
    why = "not a 64-bit little-endian ELF image";
    return false;
  }
  ByteReader r(image.subspan(0x28));  // e_shoff
  uint64_t shoff = 0;
  uint16_t ehsize = 0, phentsize = 0, phnum = 0, shentsize = 0, shnum = 0;
  uint32_t flags = 0;
  r.get(shoff);
  r.get(flags);
  r.get(ehsize);
  r.get(phentsize);
  r.get(phnum);
  r.get(shentsize);
  r.get(shnum);
  ByteReader ph(image.subspan(0x20));
  uint64_t phoff = ph.get_or<uint64_t>(0);
  if (r.failed() || (shnum && shentsize < 64) || !within(shoff, uint64_t{shnum} * shentsize, image.size()) ||
      !within(phoff, uint64_t{phnum} * phentsize, image.size())) {
    why = "ELF header tables lie outside the image";
    return false;
  }
  for (uint16_t i = 0; i < shnum; ++i) {
    ByteReader s(image.subspan(shoff + uint64_t{i} * shentsize, shentsize));
    uint32_t name = 0, type = 0;
    uint64_t sh_flags = 0, addr = 0, offset = 0, size = 0;
    s.get(name);
    s.get(type);
    s.get(sh_flags);
    s.get(addr);
    s.get(offset);
    s.get(size);
    constexpr uint32_t kNoBits = 8;
    if (s.failed() || (type != kNoBits && type != 0 && !within(offset, size, image.size()))) {
      why = fmt::format("ELF section {} lies outside the image", i);
      return false;
    }
  }
  return true;
}

}  // namespace

bool check_module_image(std::span<const uint8_t> image, ImageKind& kind, std::string& why) {
  if (image.size() < 4) {
    why = fmt::format("an image of {} bytes", image.size());
    return false;
  }
  uint32_t magic = 0;
  ByteReader(image).get(magic);
  if (magic == kFatbinWrapperMagic) {
    why = "a fatbin wrapper (it points into the client's memory); send the fatbin itself";
    return false;
  }
  if (magic == kFatbinMagic) {
    kind = ImageKind::Fatbin;
    return check_fatbin(image, why);
  }
  if (image[0] == 0x7f && image[1] == 'E' && image[2] == 'L' && image[3] == 'F') {
    kind = ImageKind::Elf;
    return check_elf(image, why);
  }
  kind = ImageKind::Ptx;
  return true;
}

}  // namespace rrto::server::cuda

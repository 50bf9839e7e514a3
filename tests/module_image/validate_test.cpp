// Validation of received module images before the real driver reads them.
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "common/codec.h"
#include "module_image/validate.h"
#include "test_data.h"

namespace rrto {
namespace {

using test::load_image;
using Kind = ModuleImage::Kind;

constexpr uint16_t kPtx = 1;
constexpr uint16_t kElf = 2;
constexpr uint16_t kLtoIr = 8;
constexpr uint64_t kZstd = 0x8000;

// A 64-bit CUDA ELF: header, two section headers, 32 bytes of section data;
// section 1 claims [section_offset, section_offset + section_size).
std::vector<uint8_t> elf(uint64_t section_offset, uint64_t section_size) {
  std::vector<uint8_t> out(64 + 2 * 64 + 32, 0);
  const uint8_t ident[] = {0x7f, 'E', 'L', 'F', 2, 1, 1};
  std::memcpy(out.data(), ident, sizeof ident);
  const uint16_t em_cuda = 190;
  const uint64_t shoff = 64;
  const uint16_t shentsize = 64, shnum = 2;
  std::memcpy(out.data() + 0x12, &em_cuda, 2);
  std::memcpy(out.data() + 0x28, &shoff, 8);
  std::memcpy(out.data() + 0x3a, &shentsize, 2);
  std::memcpy(out.data() + 0x3c, &shnum, 2);
  uint8_t* s = out.data() + 64 + 64;
  const uint32_t progbits = 1;
  std::memcpy(s + 4, &progbits, 4);
  std::memcpy(s + 24, &section_offset, 8);
  std::memcpy(s + 32, &section_size, 8);
  return out;
}

// elf() with one program header after the section headers, whose segment
// claims [segment_offset, segment_offset + segment_size).
std::vector<uint8_t> elf_with_segment(uint64_t segment_offset, uint64_t segment_size) {
  std::vector<uint8_t> out = elf(192, 32);
  const uint64_t phoff = out.size();
  const uint16_t phentsize = 56, phnum = 1;
  std::memcpy(out.data() + 0x20, &phoff, 8);
  std::memcpy(out.data() + 0x36, &phentsize, 2);
  std::memcpy(out.data() + 0x38, &phnum, 2);
  out.resize(out.size() + 56, 0);
  uint8_t* ph = out.data() + phoff;
  const uint32_t load = 1;
  std::memcpy(ph, &load, 4);
  std::memcpy(ph + 8, &segment_offset, 8);
  std::memcpy(ph + 32, &segment_size, 8);
  return out;
}

struct Entry {
  uint16_t kind = kElf;
  std::vector<uint8_t> payload;
  uint64_t claimed_size = 0;  // 0: the payload's size
  uint64_t flags = 0;
  uint32_t compressed_size = 0;
};

// A fatbin header claiming `fat_size` bytes of entries (0: what follows), then
// each entry's 64-byte header and payload.
std::vector<uint8_t> fatbin(const std::vector<Entry>& entries, uint64_t fat_size = 0) {
  std::vector<uint8_t> body;
  ByteWriter e(body);
  for (const Entry& entry : entries) {
    e.put<uint16_t>(entry.kind);
    e.put<uint16_t>(0x101);
    e.put<uint32_t>(64);
    e.put<uint64_t>(entry.claimed_size ? entry.claimed_size : entry.payload.size());
    e.put<uint32_t>(entry.compressed_size);
    body.resize(body.size() + 20, 0);  // unknown, minor, major, arch, name offset and size
    e.put<uint64_t>(entry.flags);
    e.put<uint64_t>(0);
    e.put<uint64_t>(entry.payload.size());
    e.put_bytes(entry.payload.data(), entry.payload.size());
  }
  std::vector<uint8_t> out;
  ByteWriter w(out);
  w.put<uint32_t>(0xBA55ED50);
  w.put<uint16_t>(1);
  w.put<uint16_t>(16);
  w.put<uint64_t>(fat_size ? fat_size : body.size());
  w.put_bytes(body.data(), body.size());
  return out;
}

std::vector<uint8_t> text(std::string_view s) { return {s.begin(), s.end()}; }

Status validate(const std::vector<uint8_t>& image, Kind& kind, std::string& why) {
  why.clear();
  return validate_module_image(image, kind, why);
}

bool accepted(const std::vector<uint8_t>& image) {
  Kind kind{};
  std::string why;
  return validate(image, kind, why) == Status::Ok;
}

TEST_CASE("a fatbin whose entries fit is accepted") {
  Kind kind{};
  std::string why;
  CHECK(validate(fatbin({{.payload = elf(192, 32)}}), kind, why) == Status::Ok);
  CHECK(kind == Kind::Fatbin);
  CHECK(why.empty());
}

TEST_CASE("a cubin, alone or in a fatbin, whose segment lies past its end is refused") {
  const auto fits = elf_with_segment(192, 32);
  CHECK(accepted(fits));
  CHECK(accepted(fatbin({{.payload = fits}})));
  for (const auto& bad : {elf_with_segment(192, fits.size()), elf_with_segment(UINT64_MAX - 4, 8)}) {
    CHECK_FALSE(accepted(bad));
    CHECK_FALSE(accepted(fatbin({{.payload = bad}})));
  }
}

TEST_CASE("a fatbin claiming more than was sent is refused") {
  auto image = fatbin({{.payload = elf(192, 32)}});
  image.resize(image.size() - 1);
  CHECK_FALSE(accepted(image));
  // The fatbin header fits, the entry's claimed payload does not.
  const auto cubin = elf(192, 32);
  CHECK_FALSE(accepted(fatbin({{.payload = cubin, .claimed_size = cubin.size() + 1}})));
  CHECK_FALSE(accepted(fatbin({}, UINT64_MAX - 8)));
  CHECK_FALSE(accepted(fatbin({{.payload = cubin, .claimed_size = UINT64_MAX - 10}})));
  Kind kind{};
  std::string why;
  CHECK(validate(fatbin({{.payload = cubin, .claimed_size = cubin.size() + 1}}), kind, why) != Status::Ok);
  CHECK(why.find("entry at byte 16") != std::string::npos);
}

TEST_CASE("fatbin entries are checked inside: a cubin past its payload is refused") {
  // The section ends one byte past the entry's payload, inside the next entry.
  const auto image = fatbin({{.payload = elf(192, 33)}, {.payload = elf(192, 32)}});
  Kind kind{};
  std::string why;
  CHECK(validate(image, kind, why) != Status::Ok);
  CHECK(why.find("entry at byte 16") != std::string::npos);
  CHECK(accepted(fatbin({{.payload = elf(192, 32)}, {.payload = elf(192, 32)}})));
  CHECK_FALSE(accepted(fatbin({{.payload = elf(192, 32)}, {.payload = std::vector<uint8_t>(224, 0)}})));
}

TEST_CASE("fatbin PTX entries must be NUL-terminated within their payload") {
  CHECK(accepted(fatbin({{.kind = kPtx, .payload = text(std::string_view(".version 8.0\n\0\0\0", 16))}})));
  CHECK_FALSE(accepted(fatbin({{.kind = kPtx, .payload = text(".version 8.0\n")}})));
  // Other kinds (LTO IR) are bounds-checked only.
  CHECK(accepted(fatbin({{.kind = kLtoIr, .payload = text("anything")}})));
}

TEST_CASE("a compressed fatbin entry must decompress from inside its payload") {
  const auto cubin = elf(192, 32);
  CHECK_FALSE(accepted(fatbin({{.payload = cubin, .flags = kZstd, .compressed_size = uint32_t(cubin.size() + 1)}})));
  Kind kind{};
  std::string why;
  CHECK(validate(fatbin({{.payload = cubin, .flags = kZstd, .compressed_size = uint32_t(cubin.size())}}), kind,
                 why) != Status::Ok);
  CHECK(why.find("decompress") != std::string::npos);
}

TEST_CASE("cudart's fatbin wrapper (a pointer into the client) is refused") {
  std::vector<uint8_t> wrapper(24, 0);
  const uint32_t magic = 0x466243b1;
  std::memcpy(wrapper.data(), &magic, 4);
  Kind kind{};
  std::string why;
  CHECK(validate(wrapper, kind, why) != Status::Ok);
  CHECK(kind == Kind::FatbinWrapper);
  CHECK(why.find("wrapper") != std::string::npos);
}

TEST_CASE("ELF images: header, tables and sections must lie inside the image") {
  Kind kind{};
  std::string why;
  const auto good = elf(192, 32);
  CHECK(validate(good, kind, why) == Status::Ok);
  CHECK(kind == Kind::Cubin);
  CHECK(validate(elf(192, 33), kind, why) != Status::Ok);
  CHECK(why.find("outside") != std::string::npos);
  auto truncated = good;
  truncated.resize(100);  // section header table cut off
  CHECK_FALSE(accepted(truncated));
  truncated.resize(40);  // the ELF header itself cut off
  CHECK_FALSE(accepted(truncated));
  auto elf32 = good;
  elf32[4] = 1;
  CHECK(validate(elf32, kind, why) == Status::NotSupported);
}

TEST_CASE("PTX text must be NUL-terminated within the image") {
  const char ptx[] = ".version 8.0\n.target sm_90\n";
  Kind kind{};
  std::string why;
  CHECK(validate(text(std::string_view(ptx, sizeof ptx)), kind, why) == Status::Ok);
  CHECK(kind == Kind::Ptx);
  CHECK_FALSE(accepted(text(std::string_view(ptx, sizeof ptx - 1))));
  CHECK_FALSE(accepted(text(std::string_view(ptx, 3))));
  CHECK_FALSE(accepted({}));
  CHECK(validate(text(std::string_view("not ptx at all", 15)), kind, why) != Status::Ok);
  CHECK(why.find("neither") != std::string::npos);
}

TEST_CASE("nvcc's images are accepted whole and refused at every cut") {
  for (const char* name : {"kernels.cubin", "kernels.fatbin", "kernels_uncompressed.fatbin", "kernels_zstd_all.fatbin",
                           "kernels_lz4_all.fatbin", "kernels_ptx_only.fatbin", "kernels_multi_arch.fatbin",
                           "big_params.cubin", "rdc.cubin", "kernels.ptx"}) {
    const std::string image_name = name;
    CAPTURE(image_name);
    auto bytes = load_image(name);
    RRTO_REQUIRE_IMAGE(bytes, name);
    if (image_name.ends_with(".ptx")) bytes.push_back(0);
    Kind kind{};
    std::string why;
    REQUIRE(validate(bytes, kind, why) == Status::Ok);
    CHECK(kind == (image_name.ends_with(".ptx")      ? Kind::Ptx
                   : image_name.ends_with(".cubin") ? Kind::Cubin
                                                    : Kind::Fatbin));
    for (size_t cut = 0; cut < bytes.size(); ++cut) {
      CAPTURE(cut);
      REQUIRE_FALSE(accepted({bytes.begin(), bytes.begin() + cut}));
    }
  }
}

}  // namespace
}  // namespace rrto

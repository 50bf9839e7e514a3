// The cuda backend's bounds check of module images (no GPU needed).
#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "common/codec.h"
#include "server/cuda/image_check.h"

using namespace rrto;
using rrto::server::cuda::check_module_image;
using rrto::server::cuda::ImageKind;

namespace {

std::vector<uint8_t> fatbin(uint64_t claimed_fat_size, std::vector<std::pair<uint32_t, uint64_t>> entries) {
  std::vector<uint8_t> out;
  ByteWriter w(out);
  w.put<uint32_t>(0xBA55ED50);
  w.put<uint16_t>(1);
  w.put<uint16_t>(16);
  w.put<uint64_t>(claimed_fat_size);
  for (auto [header, payload] : entries) {
    w.put<uint16_t>(2);
    w.put<uint16_t>(0x101);
    w.put<uint32_t>(header);
    w.put<uint64_t>(payload);
    out.resize(out.size() + header - 16 + payload, 0);
  }
  return out;
}

std::vector<uint8_t> elf(uint64_t section_offset, uint64_t section_size) {
  std::vector<uint8_t> out(64 + 2 * 64 + 32, 0);
  const uint8_t ident[] = {0x7f, 'E', 'L', 'F', 2, 1, 1};
  std::memcpy(out.data(), ident, sizeof ident);
  const uint64_t shoff = 64;
  const uint16_t shentsize = 64, shnum = 2;
  std::memcpy(out.data() + 0x28, &shoff, 8);
  std::memcpy(out.data() + 0x3a, &shentsize, 2);
  std::memcpy(out.data() + 0x3c, &shnum, 2);
  // Section 1: PROGBITS at (offset, size).
  uint8_t* s = out.data() + 64 + 64;
  const uint32_t progbits = 1;
  std::memcpy(s + 4, &progbits, 4);
  std::memcpy(s + 24, &section_offset, 8);
  std::memcpy(s + 32, &section_size, 8);
  return out;
}

}  // namespace

TEST_CASE("a fatbin whose entries fit is accepted") {
  auto image = fatbin(64 + 100, {{64, 100}});
  ImageKind kind{};
  std::string why;
  CHECK(check_module_image(image, kind, why));
  CHECK(kind == ImageKind::Fatbin);
}

TEST_CASE("a fatbin claiming more than was sent is refused") {
  std::string why;
  ImageKind kind{};
  auto image = fatbin(64 + 100, {{64, 100}});
  image.resize(image.size() - 1);
  CHECK_FALSE(check_module_image(image, kind, why));
  auto entry_too_big = fatbin(64 + 100, {{64, 200}});
  entry_too_big.resize(16 + 64 + 100);
  CHECK_FALSE(check_module_image(entry_too_big, kind, why));
  auto huge = fatbin(UINT64_MAX - 8, {});
  CHECK_FALSE(check_module_image(huge, kind, why));
  auto wrapping = fatbin(64 + 100, {{64, UINT64_MAX - 10}});
  wrapping.resize(16 + 64 + 100);
  CHECK_FALSE(check_module_image(wrapping, kind, why));
}

TEST_CASE("cudart's fatbin wrapper (a pointer into the client) is refused") {
  std::vector<uint8_t> wrapper(24, 0);
  const uint32_t magic = 0x466243b1;
  std::memcpy(wrapper.data(), &magic, 4);
  std::string why;
  ImageKind kind{};
  CHECK_FALSE(check_module_image(wrapper, kind, why));
  CHECK(why.find("wrapper") != std::string::npos);
}

TEST_CASE("ELF images: sections must lie inside the image") {
  std::string why;
  ImageKind kind{};
  auto good = elf(192, 32);
  CHECK(check_module_image(good, kind, why));
  CHECK(kind == ImageKind::Elf);
  auto bad = elf(192, 33);
  CHECK_FALSE(check_module_image(bad, kind, why));
  auto truncated = good;
  truncated.resize(100);  // section header table cut off
  CHECK_FALSE(check_module_image(truncated, kind, why));
}

TEST_CASE("anything else is taken as PTX text") {
  const char ptx[] = ".version 8.0\n.target sm_90\n";
  std::string why;
  ImageKind kind{};
  CHECK(check_module_image({reinterpret_cast<const uint8_t*>(ptx), sizeof ptx - 1}, kind, why));
  CHECK(kind == ImageKind::Ptx);
  CHECK_FALSE(check_module_image({reinterpret_cast<const uint8_t*>(ptx), 3}, kind, why));
}

// Malformed images must give an error status, never a crash or a read outside
// the image (run under ASan or valgrind to check the latter).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <random>
#include <string>

#include "module_image/hash.h"
#include "module_image/module_image.h"
#include "module_image/validate.h"
#include "test_data.h"

namespace rrto {
namespace {

using test::load_image;

// Parses an exact-size heap copy of bytes[0, n), so any read past `n` is a
// heap overflow that ASan and valgrind report.
Status parse_prefix(const std::vector<uint8_t>& bytes, size_t n, ModuleImage& m) {
  auto copy = std::make_unique<uint8_t[]>(n);
  if (n) std::memcpy(copy.get(), bytes.data(), n);
  return parse_module_image(copy.get(), n, m);
}

Status parse_prefix(const std::vector<uint8_t>& bytes, size_t n) {
  ModuleImage m;
  return parse_prefix(bytes, n, m);
}

// What a successful parse of `input` promises its user: the bytes to forward
// are a prefix of the input, hashed, and pass the server's validation; the
// kernels are sorted by name with ordered, non-overlapping parameters.
void check_consistent(const ModuleImage& m, const std::vector<uint8_t>& input) {
  REQUIRE(m.bytes.size() <= input.size());
  CHECK(std::equal(m.bytes.begin(), m.bytes.end(), input.begin()));
  CHECK(m.content_hash == xxh64(m.bytes.data(), m.bytes.size()));
  ModuleImage::Kind kind{};
  std::string why;
  CHECK_MESSAGE(validate_module_image(m.bytes, kind, why) == Status::Ok, why);
  CHECK(kind == m.kind);
  for (size_t i = 0; i < m.kernels.size(); ++i) {
    const KernelInfo& k = m.kernels[i];
    if (i > 0) CHECK(m.kernels[i - 1].name < k.name);
    uint64_t end = 0;
    for (const ParamInfo& p : k.params) {
      CHECK(p.offset >= end);
      end = uint64_t{p.offset} + p.size;
    }
    if (!k.params.empty()) CHECK(k.param_bytes == end);
    CHECK(k.param_bytes <= 0x10000);
  }
  uint64_t initial_bytes = 0;
  for (size_t i = 0; i < m.globals.size(); ++i) {
    const GlobalInfo& g = m.globals[i];
    if (i > 0) CHECK(m.globals[i - 1].name < g.name);
    CHECK((g.initial.empty() || g.initial.size() == g.size));
    initial_bytes += g.initial.size();
  }
  // Per cubin no more than its bytes; a fatbin may hold several.
  if (m.kind == ModuleImage::Kind::Cubin) CHECK(initial_bytes <= m.bytes.size());
}

const char* kImages[] = {"kernels.cubin",    "kernels.fatbin",   "kernels_zstd_all.fatbin", "kernels_lz4_all.fatbin",
                         "kernels_ptx_only.fatbin", "big_params.cubin", "rdc.cubin", "globals.cubin",
                         "globals_multi_arch.fatbin"};

TEST_CASE("truncated images are errors at every cut") {
  for (const char* name : kImages) {
    const std::string image_name = name;
    CAPTURE(image_name);
    const auto bytes = load_image(name);
    RRTO_REQUIRE_IMAGE(bytes, name);
    REQUIRE(parse_prefix(bytes, bytes.size()) == Status::Ok);
    for (size_t cut = 1; cut < bytes.size(); ++cut) {
      CAPTURE(cut);
      REQUIRE(parse_prefix(bytes, cut) != Status::Ok);
    }
  }
}

TEST_CASE("truncated PTX: no terminator in reach, or cut inside a signature") {
  auto ptx = load_image("kernels.ptx");
  RRTO_REQUIRE_IMAGE(ptx, "kernels.ptx");
  for (size_t cut = 1; cut < ptx.size(); ++cut) {
    CHECK(parse_prefix(ptx, cut) != Status::Ok);
  }
  // Terminated early: inside the oddParams parameter list must fail; a cut
  // elsewhere may parse, with some of the kernels, each as in the whole text.
  const std::string text(ptx.begin(), ptx.end());
  const size_t sig = text.find("oddParams(");
  REQUIRE(sig != std::string::npos);
  std::vector<uint8_t> whole = ptx;
  whole.push_back(0);
  ModuleImage full;
  REQUIRE(parse_prefix(whole, whole.size(), full) == Status::Ok);
  size_t parsed = 0;
  for (size_t cut = 1; cut < ptx.size(); ++cut) {
    CAPTURE(cut);
    std::vector<uint8_t> t(ptx.begin(), ptx.begin() + cut);
    t.push_back(0);
    ModuleImage m;
    const Status st = parse_prefix(t, t.size(), m);
    if (cut > sig + 10 && cut < text.find(')', sig)) CHECK(st != Status::Ok);
    if (st != Status::Ok) continue;
    ++parsed;
    CHECK(m.kernels.size() <= full.kernels.size());
    for (const KernelInfo& k : m.kernels) {
      const KernelInfo* whole_kernel = full.find(k.name);
      REQUIRE(whole_kernel != nullptr);
      CHECK(k.params == whole_kernel->params);
      CHECK(k.param_bytes == whole_kernel->param_bytes);
    }
  }
  CHECK(parsed > 0);  // cuts between entries
}

TEST_CASE("a fatbin whose header cuts an entry short is an error") {
  auto bytes = load_image("kernels.fatbin");
  RRTO_REQUIRE_IMAGE(bytes, "kernels.fatbin");
  uint64_t fat_size;
  std::memcpy(&fat_size, bytes.data() + 8, 8);
  for (uint64_t cut : {uint64_t{1}, uint64_t{8}, uint64_t{63}, uint64_t{64}, fat_size / 2, fat_size - 1}) {
    uint64_t v = fat_size - cut;
    std::memcpy(bytes.data() + 8, &v, 8);
    CHECK(parse_prefix(bytes, bytes.size()) != Status::Ok);
  }
}

TEST_CASE("random byte corruption: an error or a consistent result, never a crash") {
  std::mt19937_64 rng(12345);
  for (const char* name : {"kernels.cubin", "kernels.fatbin", "kernels_lz4_all.fatbin", "kernels_zstd_all.fatbin",
                           "kernels.ptx", "big_params.cubin", "globals.cubin"}) {
    const std::string image_name = name;
    CAPTURE(image_name);
    auto bytes = load_image(name);
    RRTO_REQUIRE_IMAGE(bytes, name);
    bytes.push_back(0);  // PTX terminator; harmless trailing byte for the others
    int parsed = 0, refused = 0;
    for (int iter = 0; iter < 3000; ++iter) {
      auto mutated = bytes;
      const int flips = 1 + static_cast<int>(rng() % 8);
      for (int f = 0; f < flips; ++f) {
        // Bias towards headers and metadata, where offsets and sizes live.
        const size_t span = (rng() & 1) ? std::min<size_t>(mutated.size(), 256) : mutated.size();
        mutated[rng() % span] = static_cast<uint8_t>(rng());
      }
      ModuleImage m;
      if (parse_prefix(mutated, mutated.size(), m) != Status::Ok) {
        ++refused;
        continue;
      }
      ++parsed;
      CAPTURE(iter);
      check_consistent(m, mutated);
    }
    // Both outcomes occur, so both paths were exercised.
    CHECK(parsed > 0);
    CHECK(refused > 0);
  }
}

template <typename T>
T field(const std::vector<uint8_t>& b, size_t at) {
  T v{};
  REQUIRE(at + sizeof v <= b.size());
  std::memcpy(&v, b.data() + at, sizeof v);
  return v;
}

// Where the ELF symbol `name` of a 64-bit cubin starts in `b`.
size_t symbol_entry(const std::vector<uint8_t>& b, std::string_view name) {
  const auto shoff = field<uint64_t>(b, 0x28);
  const auto shentsize = field<uint16_t>(b, 0x3a), shnum = field<uint16_t>(b, 0x3c);
  for (size_t i = 0; i < shnum; ++i) {
    const size_t sh = shoff + i * shentsize;
    if (field<uint32_t>(b, sh + 4) != 2) continue;  // SHT_SYMTAB
    const size_t strtab = shoff + field<uint32_t>(b, sh + 0x28) * shentsize;
    const auto str_offset = field<uint64_t>(b, strtab + 0x18);
    const auto offset = field<uint64_t>(b, sh + 0x18), size = field<uint64_t>(b, sh + 0x20);
    for (size_t sym = offset; sym + 24 <= offset + size; sym += 24) {
      const char* n = reinterpret_cast<const char*>(b.data() + str_offset + field<uint32_t>(b, sym));
      if (name == n) return sym;
    }
  }
  FAIL("no symbol " << name);
  return 0;
}

TEST_CASE("a global's symbol that reaches past its section is an error") {
  const auto bytes = load_image("globals.cubin");
  RRTO_REQUIRE_IMAGE(bytes, "globals.cubin");
  // Initialised (bytes in the image) and zero-filled (NOBITS: only a size).
  for (const char* name : {"initialised", "constants", "zeroed"}) {
    CAPTURE(std::string(name));
    const size_t sym = symbol_entry(bytes, name);
    for (const auto& [value, size] : {std::pair<uint64_t, uint64_t>{0, uint64_t{1} << 40}, {UINT64_MAX - 1, 4},
                                      {0, UINT64_MAX}, {4096, 4}}) {
      auto bad = bytes;
      std::memcpy(bad.data() + sym + 8, &value, 8);
      std::memcpy(bad.data() + sym + 16, &size, 8);
      CHECK(parse_prefix(bad, bad.size()) == Status::InvalidArgument);
    }
  }
}

TEST_CASE("a global's symbol with a section index out of range is an error") {
  const auto bytes = load_image("globals.cubin");
  RRTO_REQUIRE_IMAGE(bytes, "globals.cubin");
  auto bad = bytes;
  const uint16_t index = 0xfe00;
  std::memcpy(bad.data() + symbol_entry(bad, "initialised") + 6, &index, 2);
  CHECK(parse_prefix(bad, bad.size()) == Status::InvalidArgument);
  // A reserved index (absolute, common) has no storage in the image: no global.
  const uint16_t absolute = 0xfff1;
  std::memcpy(bad.data() + symbol_entry(bad, "initialised") + 6, &absolute, 2);
  ModuleImage m;
  REQUIRE(parse_prefix(bad, bad.size(), m) == Status::Ok);
  CHECK(m.find_global("initialised") == nullptr);
  CHECK(m.find_global("constants") != nullptr);
}

TEST_CASE("random garbage is an error") {
  std::mt19937_64 rng(99);
  const uint32_t magics[] = {0x464c457f, 0xBA55ED50, 0x466243b1};
  for (int iter = 0; iter < 2000; ++iter) {
    std::vector<uint8_t> g(1 + rng() % 4096);
    for (auto& b : g) b = static_cast<uint8_t>(rng());
    if (iter % 2 && g.size() >= 4) std::memcpy(g.data(), &magics[iter % 3], 4);  // plausible magic, junk after
    if (iter % 3 == 0) g.back() = 0;
    ModuleImage m;
    // A wrapper's pointer is followed without a cap, so garbage wrappers are
    // only checked with fewer bytes than a wrapper needs.
    const bool wrapper = g.size() >= 4 && std::memcmp(g.data(), &magics[2], 4) == 0;
    const size_t n = wrapper ? std::min<size_t>(g.size(), 23) : g.size();
    CHECK(parse_prefix(g, n) != Status::Ok);
  }
}

}  // namespace
}  // namespace rrto

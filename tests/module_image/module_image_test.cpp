#include <doctest/doctest.h>

#include <cstring>
#include <string>

#include "module_image/hash.h"
#include "module_image/module_image.h"
#include "test_data.h"

namespace rrto {
namespace {

using test::load_image;

// "(offset,size) ..." so a mismatch prints readably.
std::string layout(const ModuleImage& m, std::string_view kernel) {
  const KernelInfo* k = m.find(kernel);
  if (!k) return "<no kernel " + std::string(kernel) + ">";
  std::string s;
  for (const ParamInfo& p : k->params) {
    if (!s.empty()) s += ' ';
    s += "(" + std::to_string(p.offset) + "," + std::to_string(p.size) + ")";
  }
  return s + " =" + std::to_string(k->param_bytes);
}

constexpr const char* kOdd = "(0,1) (8,8) (16,12) (28,2) (32,8) (48,16) =64";

void check_kernels_module(const ModuleImage& m) {
  CHECK(layout(m, "oddParams") == kOdd);
  CHECK(layout(m, "_Z8noParamsv") == " =0");
  CHECK(layout(m, "_Z6scaledIfLi3EEvPT_S0_") == "(0,8) (8,4) =12");
  CHECK(layout(m, "_Z6scaledIdLi1EEvPT_S0_") == "(0,8) (8,8) =16");
  CHECK(layout(m, "_ZN2ns10withStructENS_4PairEPKih") == "(0,16) (16,8) (24,1) =25");
  CHECK(m.kernels.size() == 5);
  CHECK(m.find("noParams") == nullptr);
  CHECK(m.content_hash == xxh64(m.bytes.data(), m.bytes.size()));
}

std::vector<std::string> global_names(const ModuleImage& m) {
  std::vector<std::string> names;
  for (const GlobalInfo& g : m.globals) names.push_back(g.name);
  return names;
}

ModuleImage parse_ok(const std::vector<uint8_t>& bytes, size_t max_bytes) {
  ModuleImage m;
  REQUIRE(parse_module_image(bytes.data(), max_bytes, m) == Status::Ok);
  return m;
}

TEST_CASE("xxh64 matches the reference algorithm") {
  CHECK(xxh64("", 0) == 0xef46db3751d8e999ULL);
  CHECK(xxh64("a", 1) == 0xd24ec4f1a98c6e5bULL);
  CHECK(xxh64("abc", 3) == 0x44bc2cf5ad770999ULL);
  const char* s63 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!";
  CHECK(xxh64(s63, 63) == 0xaa4dcad69fac0eb3ULL);
  std::string s771;
  for (int r = 0; r < 3; ++r)
    for (int i = 0; i < 256; ++i) s771 += static_cast<char>(i);
  s771 += "xyz";
  CHECK(xxh64(s771.data(), s771.size()) == 0xe921a1b45bd779f8ULL);
}

TEST_CASE("cubin: layouts, extent, globals") {
  const auto bytes = load_image("kernels.cubin");
  RRTO_REQUIRE_IMAGE(bytes, "kernels.cubin");
  for (size_t max : {bytes.size(), SIZE_MAX}) {
    const ModuleImage m = parse_ok(bytes, max);
    CHECK(m.kind == ModuleImage::Kind::Cubin);
    CHECK(m.bytes == bytes);  // the extent from the ELF tables is the whole file
    check_kernels_module(m);
    CHECK(global_names(m) == std::vector<std::string>{"coeffs", "counter", "table"});
  }
}

TEST_CASE("PTX: layouts from .entry signatures") {
  auto bytes = load_image("kernels.ptx");
  RRTO_REQUIRE_IMAGE(bytes, "kernels.ptx");
  bytes.push_back(0);  // cuModuleLoadData takes PTX as a C string
  const ModuleImage m = parse_ok(bytes, SIZE_MAX);
  CHECK(m.kind == ModuleImage::Kind::Ptx);
  CHECK(m.bytes == bytes);
  check_kernels_module(m);
  CHECK(m.globals.empty());
}

TEST_CASE("fatbin: every compression nvcc produces") {
  // default: ELF plain, PTX zstd; none; size: both zstd; speed+compress-all:
  // both LZ4; PTX only (compressed), so the layouts come from PTX alone.
  for (const char* name : {"kernels.fatbin", "kernels_uncompressed.fatbin", "kernels_zstd_all.fatbin",
                           "kernels_lz4_all.fatbin", "kernels_ptx_only.fatbin", "kernels_multi_arch.fatbin"}) {
    const std::string image_name = name;
    CAPTURE(image_name);
    const auto bytes = load_image(name);
    RRTO_REQUIRE_IMAGE(bytes, name);
    for (size_t max : {bytes.size(), SIZE_MAX}) {
      const ModuleImage m = parse_ok(bytes, max);
      CHECK(m.kind == ModuleImage::Kind::Fatbin);
      CHECK(m.bytes == bytes);
      check_kernels_module(m);
      if (std::string(name) == "kernels_ptx_only.fatbin") {
        CHECK(m.globals.empty());
      } else {
        CHECK(global_names(m) == std::vector<std::string>{"coeffs", "counter", "table"});
      }
    }
  }
}

// Replaces the first `from` in the image by `to` (same length).
bool patch(std::vector<uint8_t>& bytes, std::string_view from, std::string_view to) {
  REQUIRE(from.size() == to.size());
  const std::string_view all(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  const size_t at = all.find(from);
  if (at == std::string_view::npos) return false;
  std::memcpy(bytes.data() + at, to.data(), to.size());
  return true;
}

TEST_CASE("fatbin: unreadable PTX beside a cubin is skipped, alone it is an error") {
  auto with_cubin = load_image("kernels_uncompressed.fatbin");
  RRTO_REQUIRE_IMAGE(with_cubin, "kernels_uncompressed.fatbin");
  REQUIRE(patch(with_cubin, ".param .u8 oddParams_param_0", ".param .zz oddParams_param_0"));
  check_kernels_module(parse_ok(with_cubin, with_cubin.size()));

  auto ptx_only = load_image("kernels_ptx_only_uncompressed.fatbin");
  RRTO_REQUIRE_IMAGE(ptx_only, "kernels_ptx_only_uncompressed.fatbin");
  check_kernels_module(parse_ok(ptx_only, ptx_only.size()));
  REQUIRE(patch(ptx_only, ".param .u8 oddParams_param_0", ".param .zz oddParams_param_0"));
  ModuleImage m;
  CHECK(parse_module_image(ptx_only.data(), ptx_only.size(), m) == Status::InvalidArgument);
}

TEST_CASE("fatbin wrapper: follows the pointer and copies the fatbin") {
  const auto fatbin = load_image("kernels.fatbin");
  RRTO_REQUIRE_IMAGE(fatbin, "kernels.fatbin");
  struct {
    int magic;
    int version;
    const unsigned long long* data;
    void* filename_or_fatbins;
  } wrapper{0x466243b1, 1, reinterpret_cast<const unsigned long long*>(fatbin.data()), nullptr};
  static_assert(sizeof(wrapper) == 24);

  ModuleImage m;
  REQUIRE(parse_module_image(&wrapper, SIZE_MAX, m) == Status::Ok);
  CHECK(m.kind == ModuleImage::Kind::FatbinWrapper);
  CHECK(m.bytes == fatbin);
  check_kernels_module(m);
  CHECK(m.content_hash == parse_ok(fatbin, SIZE_MAX).content_hash);

  ModuleImage bad;
  wrapper.data = nullptr;
  CHECK(parse_module_image(&wrapper, SIZE_MAX, bad) != Status::Ok);
  wrapper.data = reinterpret_cast<const unsigned long long*>(fatbin.data());
  wrapper.version = 7;
  CHECK(parse_module_image(&wrapper, SIZE_MAX, bad) != Status::Ok);
  wrapper.version = 1;
  CHECK(parse_module_image(&wrapper, sizeof(wrapper) - 1, bad) != Status::Ok);
}

TEST_CASE("parameters past 4 KiB (EIATTR_KPARAM_INFO_V2)") {
  const char* big = "(0,4) (4,20000) (20004,4) =20008";
  const char* mid = "(0,5000) (5000,8) (5008,1) (5024,16) (5040,5000) =10040";
  const auto cubin = load_image("big_params.cubin");
  RRTO_REQUIRE_IMAGE(cubin, "big_params.cubin");
  const ModuleImage c = parse_ok(cubin, cubin.size());
  CHECK(layout(c, "bigParam") == big);
  CHECK(layout(c, "midMix") == mid);

  auto ptx = load_image("big_params.ptx");
  RRTO_REQUIRE_IMAGE(ptx, "big_params.ptx");
  ptx.push_back(0);
  const ModuleImage p = parse_ok(ptx, ptx.size());
  CHECK(layout(p, "bigParam") == big);
  CHECK(layout(p, "midMix") == mid);
}

TEST_CASE("relocatable cubin: device functions are not kernels") {
  const auto bytes = load_image("rdc.cubin");
  RRTO_REQUIRE_IMAGE(bytes, "rdc.cubin");
  const ModuleImage m = parse_ok(bytes, bytes.size());
  REQUIRE(m.kernels.size() == 1);
  CHECK(layout(m, "useHelper") == "(0,8) (8,4) =12");
  CHECK(m.find("_Z6helperPfid") == nullptr);
  CHECK(global_names(m) == std::vector<std::string>{"rdc_counter"});
}

template <typename T, size_t N>
std::vector<uint8_t> bytes_of(const T (&values)[N]) {
  std::vector<uint8_t> out(sizeof values);
  std::memcpy(out.data(), values, sizeof values);
  return out;
}

void check_globals_module(const ModuleImage& m) {
  REQUIRE(global_names(m) == std::vector<std::string>{"constants", "initialised", "twice", "zeroed"});
  const int initialised[] = {42};
  const float constants[] = {1.5f, 2.5f, 3.5f, 4.5f};
  const double twice[] = {2.0};
  CHECK(*m.find_global("initialised") == GlobalInfo{"initialised", 4, bytes_of(initialised)});
  CHECK(*m.find_global("constants") == GlobalInfo{"constants", 16, bytes_of(constants)});
  CHECK(*m.find_global("twice") == GlobalInfo{"twice", 8, bytes_of(twice)});
  CHECK(*m.find_global("zeroed") == GlobalInfo{"zeroed", 1000, {}});  // zero-filled: no bytes in the image
  CHECK(m.find_global("staged") == nullptr);  // __shared__, not a global
  CHECK(m.find_global("readGlobals") == nullptr);
}

TEST_CASE("globals: sizes and initial contents") {
  for (const char* name : {"globals.cubin", "globals_rdc.cubin", "globals_multi_arch.fatbin"}) {
    const std::string image_name = name;
    CAPTURE(image_name);
    const auto bytes = load_image(name);
    RRTO_REQUIRE_IMAGE(bytes, name);
    check_globals_module(parse_ok(bytes, bytes.size()));
  }
}

TEST_CASE("content hash is stable and sensitive") {
  const auto bytes = load_image("kernels.cubin");
  RRTO_REQUIRE_IMAGE(bytes, "kernels.cubin");
  const uint64_t h = parse_ok(bytes, SIZE_MAX).content_hash;
  CHECK(parse_ok(bytes, SIZE_MAX).content_hash == h);
  auto changed = bytes;
  changed[changed.size() / 2 + 1] ^= 1;  // inside code, not a header field
  ModuleImage m;
  if (parse_module_image(changed.data(), changed.size(), m) == Status::Ok) CHECK(m.content_hash != h);
}

}  // namespace
}  // namespace rrto

// The host-kernel plug-in ABI and loader: libraries built from kernel sources
// with rrto/host_kernel.h, kernels found by their mangled names, parameter
// layouts as nvcc has them, launches over grid x block.
#include "server/hostkernel/loader.h"

#include "param_probe.h"

#include <doctest/doctest.h>

#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using rrto::HostGlobal;
using rrto::HostDim3;
using rrto::HostKernel;
using rrto::HostKernelLibrary;
using rrto::HostKernelParam;
using rrto::HostKernelRegistry;
using rrto::Status;

namespace {

// Host twins of the CUDA types in the test kernels' signatures.
struct alignas(8) Float2 { float x, y; };
struct Char3 { signed char x, y, z; };
struct alignas(4) UChar4 { unsigned char x, y, z, w; };
struct alignas(16) ULongLong2 { unsigned long long x, y; };
struct Float3 { float x, y, z; };
struct Pair { int a; double b; };
struct alignas(16) Int4 { int x, y, z, w; };
struct alignas(16) Double2 { double x, y; };
struct UInt3 { unsigned x, y, z; };

std::unique_ptr<HostKernelLibrary> open_ok(const char* path) {
  std::unique_ptr<HostKernelLibrary> lib;
  std::string error;
  const Status s = HostKernelLibrary::open(path, lib, error);
  INFO(error);
  REQUIRE(s == Status::Ok);
  REQUIRE(lib != nullptr);
  return lib;
}

const HostKernel& kernel(const HostKernelLibrary& lib, const std::string& name) {
  const HostKernel* k = nullptr;
  std::string error;
  const Status s = lib.lookup(name, k, error);
  INFO(name << ": " << error);
  REQUIRE(s == Status::Ok);
  REQUIRE(k != nullptr);
  return *k;
}

std::vector<HostKernelParam> layout(std::initializer_list<std::pair<uint32_t, uint32_t>> l) {
  std::vector<HostKernelParam> v;
  for (auto [o, s] : l) v.push_back(HostKernelParam{o, s});
  return v;
}

// ---- PTX: nvcc's names and parameter lists ----------------------------------------------

struct PtxEntry {
  std::string name;
  std::vector<HostKernelParam> params;
};

uint32_t ptx_type_size(const std::string& t) {
  if (t.size() < 3) return 0;
  const std::string bits = t.substr(2);  // ".u32" -> "32"
  if (bits == "8") return 1;
  if (bits == "16") return 2;
  if (bits == "32") return 4;
  if (bits == "64") return 8;
  return 0;
}

// Parses `.entry name( .param [.align N] .type name[count], ... )` and lays the
// parameters out as CUDA does (each at its alignment).
std::vector<PtxEntry> parse_ptx(const std::string& text) {
  std::vector<PtxEntry> entries;
  size_t pos = 0;
  while ((pos = text.find(".entry ", pos)) != std::string::npos) {
    pos += 7;
    const size_t open = text.find('(', pos), close = text.find(')', open);
    REQUIRE(open != std::string::npos);
    REQUIRE(close != std::string::npos);
    PtxEntry e;
    std::istringstream name(text.substr(pos, open - pos));
    name >> e.name;
    std::string list = text.substr(open + 1, close - open - 1);
    for (char& c : list)
      if (c == ',') c = '\n';
    std::istringstream params(list);
    std::string line;
    uint32_t end = 0;
    while (std::getline(params, line)) {
      std::istringstream words(line);
      std::string word, type;
      uint32_t align = 0, count = 1;
      words >> word;
      if (word != ".param") continue;
      while (words >> word) {
        if (word == ".align") {
          words >> align;
        } else if (word[0] == '.') {
          type = word;
        } else {
          const size_t bracket = word.find('[');
          if (bracket != std::string::npos) count = static_cast<uint32_t>(std::stoul(word.substr(bracket + 1)));
        }
      }
      const uint32_t elem = ptx_type_size(type);
      REQUIRE(elem != 0);
      if (align == 0) align = elem;
      const uint32_t offset = (end + align - 1) / align * align;
      e.params.push_back(HostKernelParam{offset, elem * count});
      end = offset + elem * count;
    }
    entries.push_back(std::move(e));
    pos = close;
  }
  return entries;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

// ---- the examples' library -----------------------------------------------------------

TEST_CASE("the example library loads and registers its kernels") {
  auto lib = open_ok(RRTO_EXAMPLE_KERNELS_SO);
  CHECK(lib->path() == RRTO_EXAMPLE_KERNELS_SO);
  std::map<std::string, std::string> names;
  for (const auto& k : lib->kernels()) names[k->name()] = k->source_name();
  CHECK(names.size() == 11);
  CHECK(names["_ZN3cnn11scale_shiftEPKfPfiff"] == "scale_shift");
  CHECK(names["_ZN3cnn4reluEPfi"] == "relu");
  CHECK(names["_ZN3cnn11conv2d_biasEPKfS1_S1_Pfiiiiii"] == "conv2d_bias");
  CHECK(names["_ZN3cnn10maxpool2x2EPKfPfiiii"] == "maxpool2x2");
  CHECK(names["_ZN3cnn5denseEPKfS1_S1_Pfiii"] == "dense");
  CHECK(names["_ZN3cnn7softmaxEPKfPfii"] == "softmax");
  CHECK(names[param_probe::kKernelName] == "oddParams");
  CHECK(names["_ZN4spec7scatterEPKPfPKfii"] == "scatter");
}

TEST_CASE("oddParams is found by its mangled name, with CUDA's parameter layout") {
  auto lib = open_ok(RRTO_EXAMPLE_KERNELS_SO);
  const HostKernel& k = kernel(*lib, "_Z9oddParamscd5Vec3fsPf4int4");
  CHECK(k.name() == "_Z9oddParamscd5Vec3fsPf4int4");
  CHECK(&k.library() == lib.get());
  CHECK(k.params() == layout({{0, 1}, {8, 8}, {16, 12}, {28, 2}, {32, 8}, {48, 16}}));
  CHECK(k.param_buffer_size() == 64);
  for (int i = 0; i < param_probe::kParams; ++i) {
    CHECK(k.params()[i].offset == param_probe::kOffsets[i]);
    CHECK(k.params()[i].size == param_probe::kSizes[i]);
  }
  CHECK(k.check_params(layout({{0, 1}, {8, 8}, {16, 12}, {28, 2}, {32, 8}, {48, 16}})) == Status::Ok);
  std::string error;
  // A client that assumed 8-byte arguments everywhere:
  CHECK(k.check_params(layout({{0, 8}, {8, 8}, {16, 8}, {24, 8}, {32, 8}, {40, 8}}), &error) ==
        Status::InvalidArgument);
  CHECK(error.find("parameter 0") != std::string::npos);
  CHECK(k.check_params(layout({{0, 1}}), &error) == Status::InvalidArgument);
  CHECK(error.find("expected 1 parameters") != std::string::npos);
}

TEST_CASE("oddParams runs on host buffers: kernelParams form") {
  auto lib = open_ok(RRTO_EXAMPLE_KERNELS_SO);
  const HostKernel& k = kernel(*lib, param_probe::kKernelName);
  alignas(16) float out[param_probe::kOutFloats] = {};
  const param_probe::Args a = param_probe::sample_args(reinterpret_cast<uint64_t>(out));
  char c = a.c;
  double d = a.d;
  Vec3f v = a.v;
  short s = a.s;
  float* p = out;
  param_probe::Int4 q = a.q;
  void* args[] = {&c, &d, &v, &s, &p, &q};
  std::string error;
  REQUIRE(k.launch(HostDim3{2, 1, 1}, HostDim3{3, 2, 1}, args, &error) == Status::Ok);
  float want[param_probe::kOutFloats];
  param_probe::expected_output(a, 12, want);
  CHECK(std::memcmp(out, want, sizeof out) == 0);
}

TEST_CASE("oddParams runs on host buffers: packed buffer form, aligned or not") {
  auto lib = open_ok(RRTO_EXAMPLE_KERNELS_SO);
  const HostKernel& k = kernel(*lib, param_probe::kKernelName);
  for (size_t shift : {0, 1, 3}) {
    CAPTURE(shift);
    alignas(16) float out[param_probe::kOutFloats] = {};
    const param_probe::Args a = param_probe::sample_args(reinterpret_cast<uint64_t>(out));
    unsigned char packed[param_probe::kParamBytes];
    param_probe::pack(a, packed);
    alignas(16) uint8_t storage[param_probe::kParamBytes + 8] = {};
    std::memcpy(storage + shift, packed, sizeof packed);
    std::string error;
    REQUIRE(k.launch(HostDim3{1, 2, 2}, HostDim3{2, 1, 2}, storage + shift, sizeof packed, &error) == Status::Ok);
    float want[param_probe::kOutFloats];
    param_probe::expected_output(a, 16, want);
    CHECK(std::memcmp(out, want, sizeof out) == 0);
  }
}

TEST_CASE("an unknown name is NotFound, with the name in the message") {
  auto lib = open_ok(RRTO_EXAMPLE_KERNELS_SO);
  const HostKernel* k = reinterpret_cast<const HostKernel*>(1);
  std::string error;
  CHECK(lib->lookup("_Z12no_such_kernPf", k, error) == Status::NotFound);
  CHECK(k == nullptr);
  CHECK(error.find("_Z12no_such_kernPf") != std::string::npos);
  CHECK(error.find("no_such_kern(float*)") != std::string::npos);  // demangled too
  CHECK(error.find(RRTO_EXAMPLE_KERNELS_SO) != std::string::npos);
  CHECK(lib->find("_Z12no_such_kernPf") == nullptr);
  // A name that resolves to something that is not a registered kernel.
  CHECK(lib->find("rrto_host_kernels") == nullptr);
  CHECK(lib->find("") == nullptr);
}

TEST_CASE("libraries that are not host-kernel libraries fail with a clear error") {
  std::unique_ptr<HostKernelLibrary> lib;
  std::string error;
  SUBCASE("no table") {
    CHECK(HostKernelLibrary::open(RRTO_TEST_NO_TABLE_SO, lib, error) == Status::NotFound);
    CHECK(error.find("rrto_host_kernels") != std::string::npos);
    CHECK(error.find("not a host-kernel library") != std::string::npos);
    CHECK(error.find(RRTO_TEST_NO_TABLE_SO) != std::string::npos);
  }
  SUBCASE("another ABI version") {
    CHECK(HostKernelLibrary::open(RRTO_TEST_BAD_VERSION_SO, lib, error) == Status::NotSupported);
    CHECK(error.find("version 999") != std::string::npos);
  }
  SUBCASE("a malformed parameter layout") {
    CHECK(HostKernelLibrary::open(RRTO_TEST_BAD_LAYOUT_SO, lib, error) == Status::InvalidArgument);
    CHECK(error.find("overlaps") != std::string::npos);
  }
  SUBCASE("no such file") {
    CHECK(HostKernelLibrary::open("/nonexistent/librrto_nothing.so", lib, error) == Status::IoError);
    CHECK(error.find("/nonexistent/librrto_nothing.so") != std::string::npos);
  }
  CHECK(lib == nullptr);
}

// ---- the test library ------------------------------------------------------------------

TEST_CASE("a kernel exported but not registered is NotFound, saying so") {
  auto lib = open_ok(RRTO_TEST_KERNELS_SO);
  const HostKernel* k = nullptr;
  std::string error;
  CHECK(lib->lookup("_ZN7hk_test23exported_not_registeredEPi", k, error) == Status::NotFound);
  CHECK(k == nullptr);
  CHECK(error.find("not registered") != std::string::npos);
  CHECK(error.find("RRTO_HOST_KERNEL") != std::string::npos);
}

TEST_CASE("each library has its own table, and registering twice keeps one entry") {
  auto examples = open_ok(RRTO_EXAMPLE_KERNELS_SO);
  auto tests = open_ok(RRTO_TEST_KERNELS_SO);
  CHECK(examples->kernels().size() == 11);
  // fill x3, record_order, trap_if, many_types, no_params, c_linkage_kernel, read_table (twice)
  CHECK(tests->kernels().size() == 9);
  CHECK(tests->find(param_probe::kKernelName) == nullptr);
  CHECK(examples->find("_ZN7hk_test9no_paramsEv") == nullptr);
}

TEST_CASE("blocks and threads run in order, x fastest, with the launch geometry visible") {
  auto lib = open_ok(RRTO_TEST_KERNELS_SO);
  const HostKernel& k = kernel(*lib, "_ZN7hk_test12record_orderEPjS0_P5uint3");
  CHECK(k.params() == layout({{0, 8}, {8, 8}, {16, 8}}));
  CHECK(k.pointer_params() == std::vector<uint32_t>{0, 1, 2});
  const HostDim3 grid{2, 3, 2}, block{4, 2, 3};
  const unsigned total = 2 * 3 * 2 * 4 * 2 * 3;
  std::vector<unsigned> order(total, ~0u);
  unsigned counter = 0;
  UInt3 dims[2] = {};
  unsigned* out = order.data();
  unsigned* count = &counter;
  UInt3* seen = dims;
  void* args[] = {&out, &count, &seen};
  REQUIRE(k.launch(grid, block, args) == Status::Ok);
  CHECK(counter == total);
  for (unsigned i = 0; i < total; ++i) REQUIRE(order[i] == i);
  CHECK(dims[0].x == 2);
  CHECK(dims[0].y == 3);
  CHECK(dims[0].z == 2);
  CHECK(dims[1].x == 4);
  CHECK(dims[1].y == 2);
  CHECK(dims[1].z == 3);
}

TEST_CASE("template kernels: nvcc's mangled names, layouts, launches") {
  auto lib = open_ok(RRTO_TEST_KERNELS_SO);
  const HostKernel& f = kernel(*lib, "_ZN7hk_test4fillIfEEvPT_S1_i");
  CHECK(f.source_name() == "hk_test::fill<float>");
  CHECK(f.params() == layout({{0, 8}, {8, 4}, {12, 4}}));
  const HostKernel& i4 = kernel(*lib, "_ZN7hk_test4fillI4int4EEvPT_S2_i");
  CHECK(i4.params() == layout({{0, 8}, {16, 16}, {32, 4}}));
  const HostKernel& d2 = kernel(*lib, "_ZN7hk_test4fillI7double2EEvPT_S2_i");
  CHECK(d2.params() == layout({{0, 8}, {16, 16}, {32, 4}}));

  std::vector<Int4> out(8, Int4{0, 0, 0, 0});
  Int4* p = out.data();
  Int4 value{7, -8, 9, -10};
  int n = 5;
  void* args[] = {&p, &value, &n};
  REQUIRE(i4.launch(HostDim3{2, 1, 1}, HostDim3{4, 1, 1}, args) == Status::Ok);
  for (int i = 0; i < 8; ++i) {
    CAPTURE(i);
    CHECK(out[i].x == (i < n ? 7 : 0));
    CHECK(out[i].w == (i < n ? -10 : 0));
  }
}

TEST_CASE("parameters of many kinds") {
  auto lib = open_ok(RRTO_TEST_KERNELS_SO);
  const HostKernel& k =
      kernel(*lib, "_ZN7hk_test10many_typesEhtx6float25char3db6uchar44PairPKf10ulonglong2s6float3Pd");
  // uchar, ushort, long long, float2, char3, double, bool, uchar4, Pair, const float*, ulonglong2, short, float3, double*
  CHECK(k.params() == layout({{0, 1},
                              {2, 2},
                              {8, 8},
                              {16, 8},
                              {24, 3},
                              {32, 8},
                              {40, 1},
                              {44, 4},
                              {48, 16},
                              {64, 8},
                              {80, 16},
                              {96, 2},
                              {100, 12},
                              {112, 8}}));
  CHECK(k.param_buffer_size() == 120);

  unsigned char a = 1;
  unsigned short b = 2;
  long long c = 3;
  Float2 d{4, 5};
  Char3 e{6, 7, 8};
  double f = 9;
  bool g = true;
  UChar4 h{10, 11, 12, 13};
  Pair i{14, 15.5};
  float j_value = 16;
  const float* j = &j_value;
  ULongLong2 kk{17, 18};
  short l = 19;
  Float3 m{20, 21, 22};
  double result = 0;
  double* out = &result;
  void* args[] = {&a, &b, &c, &d, &e, &f, &g, &h, &i, &j, &kk, &l, &m, &out};
  REQUIRE(k.launch(HostDim3{}, HostDim3{}, args) == Status::Ok);
  CHECK(result == 1 + 2 + 3 + 4 + 5 + 6 + 7 + 8 + 9 + 1 + 10 + 11 + 12 + 13 + 14 + 15.5 + 16 + 17 + 18 + 19 + 20 + 21 + 22);

  // The same through a packed buffer.
  std::vector<uint8_t> buffer(k.param_buffer_size());
  for (size_t p = 0; p < k.params().size(); ++p)
    std::memcpy(buffer.data() + k.params()[p].offset, args[p], k.params()[p].size);
  result = 0;
  REQUIRE(k.launch(HostDim3{}, HostDim3{}, buffer.data(), buffer.size()) == Status::Ok);
  CHECK(result == 1 + 2 + 3 + 4 + 5 + 6 + 7 + 8 + 9 + 1 + 10 + 11 + 12 + 13 + 14 + 15.5 + 16 + 17 + 18 + 19 + 20 + 21 + 22);
}

TEST_CASE("kernels without parameters, with C linkage, and __constant__ data") {
  auto lib = open_ok(RRTO_TEST_KERNELS_SO);
  const HostKernel& none = kernel(*lib, "_ZN7hk_test9no_paramsEv");
  CHECK(none.params().empty());
  CHECK(none.param_buffer_size() == 0);
  CHECK(none.launch(HostDim3{3, 1, 1}, HostDim3{5, 1, 1}, static_cast<void* const*>(nullptr)) == Status::Ok);
  CHECK(none.launch(HostDim3{}, HostDim3{}, static_cast<const uint8_t*>(nullptr), 0) == Status::Ok);

  const HostKernel& c = kernel(*lib, "c_linkage_kernel");
  CHECK(c.params() == layout({{0, 8}, {8, 4}}));
  CHECK(c.pointer_params() == std::vector<uint32_t>{0});

  const HostGlobal* global = nullptr;
  std::string error;
  REQUIRE(lib->find_global("hk_test_table", global, error) == Status::Ok);
  CHECK(global->size == 4 * sizeof(float));
  REQUIRE(lib->globals().size() == 1);
  const float* table = static_cast<const float*>(global->address);
  CHECK(table[3] == 8.0f);
  const HostKernel& read = kernel(*lib, "_Z10read_tablePf");
  float out[4] = {};
  float* p = out;
  void* args[] = {&p};
  REQUIRE(read.launch(HostDim3{}, HostDim3{4, 1, 1}, args) == Status::Ok);
  CHECK(out[0] == 1.0f);
  CHECK(out[3] == 8.0f);
  // Only registered globals: not a function, nor anything else the library links.
  CHECK(lib->find_global("_Z10read_tablePf", global, error) == Status::NotFound);
  CHECK(lib->find_global("environ", global, error) == Status::NotFound);
  CHECK(lib->find_global("no_such_global", global, error) == Status::NotFound);
  CHECK(error.find("RRTO_HOST_GLOBAL") != std::string::npos);
}

TEST_CASE("__trap() fails the launch instead of the process") {
  auto lib = open_ok(RRTO_TEST_KERNELS_SO);
  const HostKernel& k = kernel(*lib, "_ZN7hk_test7trap_ifEPKiPi");
  int flag = 1, after = 0;
  const int* f = &flag;
  int* a = &after;
  void* args[] = {&f, &a};
  std::string error;
  CHECK(k.launch(HostDim3{}, HostDim3{}, args, &error) == Status::InternalError);
  CHECK(error.find("__trap") != std::string::npos);
  CHECK(error.find("trap_if") != std::string::npos);
  CHECK(after == 0);
  flag = 0;
  CHECK(k.launch(HostDim3{}, HostDim3{}, args, &error) == Status::Ok);
  CHECK(after == 1);
}

TEST_CASE("bad launches are rejected before running") {
  auto lib = open_ok(RRTO_TEST_KERNELS_SO);
  const HostKernel& k = kernel(*lib, "_ZN7hk_test4fillIfEEvPT_S1_i");
  float out[4] = {};
  float* p = out;
  float v = 1;
  int n = 4;
  void* args[] = {&p, &v, &n};
  std::string error;
  CHECK(k.launch(HostDim3{0, 1, 1}, HostDim3{}, args, &error) == Status::InvalidArgument);
  CHECK(error.find("zero dimension") != std::string::npos);
  CHECK(k.launch(HostDim3{}, HostDim3{2048, 1, 1}, args, &error) == Status::InvalidArgument);
  CHECK(k.launch(HostDim3{}, HostDim3{32, 32, 2}, args, &error) == Status::InvalidArgument);
  CHECK(k.launch(HostDim3{1, 70000, 1}, HostDim3{}, args, &error) == Status::InvalidArgument);
  CHECK(k.launch(HostDim3{}, HostDim3{}, static_cast<void* const*>(nullptr), &error) == Status::InvalidArgument);
  void* with_null[] = {&p, nullptr, &n};
  CHECK(k.launch(HostDim3{}, HostDim3{}, with_null, &error) == Status::InvalidArgument);
  CHECK(error.find("argument 1") != std::string::npos);
  uint8_t small[8] = {};
  CHECK(k.launch(HostDim3{}, HostDim3{}, small, sizeof small, &error) == Status::InvalidArgument);
  CHECK(error.find("16") != std::string::npos);
  CHECK(out[0] == 0.0f);
}

TEST_CASE("launches on several threads at once keep their own indices") {
  auto lib = open_ok(RRTO_TEST_KERNELS_SO);
  const HostKernel& k = kernel(*lib, "_ZN7hk_test4fillIfEEvPT_S1_i");
  std::atomic<int> failures{0};
  auto worker = [&](float value, unsigned block) {
    std::vector<float> out(1000);
    for (int round = 0; round < 200; ++round) {
      std::fill(out.begin(), out.end(), 0.0f);
      float* p = out.data();
      float v = value + static_cast<float>(round);
      int n = 1000;
      void* args[] = {&p, &v, &n};
      if (k.launch(HostDim3{(1000 + block - 1) / block, 1, 1}, HostDim3{block, 1, 1}, args) != Status::Ok) ++failures;
      for (float x : out)
        if (x != v) ++failures;
    }
  };
  std::thread t1(worker, 1.0f, 32), t2(worker, 1000.0f, 100), t3(worker, -5.0f, 7);
  t1.join();
  t2.join();
  t3.join();
  CHECK(failures.load() == 0);
}

// ---- the registry ----------------------------------------------------------------------

TEST_CASE("the registry searches its libraries in order") {
  namespace fs = std::filesystem;
  const fs::path copy = fs::temp_directory_path() / ("librrto_example_kernels_copy_" + std::to_string(getpid()) + ".so");
  fs::copy_file(RRTO_EXAMPLE_KERNELS_SO, copy, fs::copy_options::overwrite_existing);

  HostKernelRegistry registry;
  CHECK(registry.empty());
  std::string error;
  REQUIRE(registry.add(RRTO_TEST_KERNELS_SO, error) == Status::Ok);
  REQUIRE(registry.add(RRTO_EXAMPLE_KERNELS_SO, error) == Status::Ok);
  REQUIRE(registry.add(copy.string(), error) == Status::Ok);
  CHECK(registry.add(RRTO_TEST_NO_TABLE_SO, error) == Status::NotFound);
  CHECK(registry.libraries().size() == 3);

  const HostKernel* k = registry.find(param_probe::kKernelName);
  REQUIRE(k != nullptr);
  CHECK(k->library().path() == RRTO_EXAMPLE_KERNELS_SO);  // the first that has it
  CHECK(registry.find("_ZN7hk_test9no_paramsEv") != nullptr);

  CHECK(registry.lookup("_Z12no_such_kernPf", k, error) == Status::NotFound);
  CHECK(k == nullptr);
  CHECK(error.find("no_such_kern") != std::string::npos);
  CHECK(error.find(RRTO_TEST_KERNELS_SO) != std::string::npos);
  CHECK(error.find(copy.string()) != std::string::npos);

  CHECK(registry.lookup("_ZN7hk_test23exported_not_registeredEPi", k, error) == Status::NotFound);
  CHECK(error.find("not registered") != std::string::npos);

  HostKernelRegistry none;
  CHECK(none.lookup(param_probe::kKernelName, k, error) == Status::NotFound);
  CHECK(error.find("none configured") != std::string::npos);
  fs::remove(copy);
}

// ---- against nvcc ----------------------------------------------------------------------

TEST_CASE("every kernel nvcc compiles is found under nvcc's name with nvcc's parameter layout") {
  const std::string dir = RRTO_TEST_PTX_DIR;
  if (dir.empty()) {
    MESSAGE("built without nvcc: PTX comparison skipped");
    return;
  }
  auto examples = open_ok(RRTO_EXAMPLE_KERNELS_SO);
  auto tests = open_ok(RRTO_TEST_KERNELS_SO);
  struct Source {
    const char* ptx;
    const HostKernelLibrary* lib;
    size_t kernels;
  };
  for (const Source& src : {Source{"cnn_kernels.ptx", examples.get(), 6},
                            Source{"param_probe_kernels.ptx", examples.get(), 1},
                            Source{"test_kernels.ptx", tests.get(), 10}}) {
    CAPTURE(src.ptx);
    const std::vector<PtxEntry> entries = parse_ptx(read_text(dir + "/" + src.ptx));
    CHECK(entries.size() == src.kernels);
    for (const PtxEntry& e : entries) {
      CAPTURE(e.name);
      const HostKernel* k = nullptr;
      std::string error;
      const Status s = src.lib->lookup(e.name, k, error);
      if (e.name == "_ZN7hk_test23exported_not_registeredEPi") {
        CHECK(s == Status::NotFound);
        continue;
      }
      INFO(error);
      REQUIRE(s == Status::Ok);
      CHECK(k->name() == e.name);
      CHECK(k->params() == e.params);
      CHECK(k->check_params(e.params) == Status::Ok);
    }
  }
}

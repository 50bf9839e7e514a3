// spec_diverge: a program that synchronises twice per inference and, once,
// leaves its pattern right after the first synchronisation point, which is
// where replay continues speculatively. Every output is compared with a CPU
// reference; the accumulator makes each output depend on every inference
// before it, so a continuation that was not undone shows.
//
//   spec_diverge --scenario S [--inferences N] [--leave-at K] [--quiet]
//
// One inference (driver API, default stream, n floats):
//   x -> device; h = 2x + 1; h -> host (the first synchronisation point);
//   y += 1 * h; out = 0.5 y + 0; out -> host.
// At inference K (10) the program, right after copying h back:
//   none      does nothing different
//   argument  accumulates with s = 2 instead of 1
//   kernel    runs another kernel first (y = -y)
//   upload    uploads a new y first
//   free      frees `out` and allocates it again
//   late      accumulates as always, then computes out with a = 0.25
// and `pointers` writes out through a pointer array every inference
// (out -> c0 and c1 + 1, c1 copied back), which a server must not speculate.
//
// Exit status: 0 all outputs match, 1 a mismatch, 2 a CUDA error, 3 bad usage.
#include <cuda.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "examples/common/example_util.h"

extern "C" const unsigned char rrto_spec_fatbin[];

namespace {

using examples::check_cu;

enum class Scenario { None, Argument, Kernel, Upload, Free, Late, Pointers };
constexpr const char* kScenarioNames[] = {"none", "argument", "kernel", "upload", "free", "late", "pointers"};
constexpr int kElements = 1000;
constexpr unsigned kBlock = 128;

struct Options {
  Scenario scenario = Scenario::None;
  int inferences = 20;
  int leave_at = 10;
  bool quiet = false;
};

// The CPU side of one inference, as the device computes it.
struct Reference {
  std::vector<float> y = std::vector<float>(kElements, 0.0f);
  static std::vector<float> affine(const std::vector<float>& in, float a, float b) {
    std::vector<float> out(in.size());
    for (size_t i = 0; i < in.size(); ++i) out[i] = a * in[i] + b;
    return out;
  }
  void accumulate(const std::vector<float>& x, float s) {
    for (size_t i = 0; i < y.size(); ++i) y[i] = y[i] + s * x[i];
  }
};

class Program {
 public:
  explicit Program(const Options& opt) : opt_(opt) {}
  ~Program() {
    for (CUdeviceptr p : {x_, h_, y_, out_, c0_, c1_, ptrs_})
      if (p) cuMemFree(p);
    if (module_) cuModuleUnload(module_);
  }

  bool init() {
    CUdevice device;
    if (!check_cu(cuInit(0), "cuInit") || !check_cu(cuDeviceGet(&device, 0), "cuDeviceGet") ||
        !check_cu(cuDevicePrimaryCtxRetain(&context_, device), "cuDevicePrimaryCtxRetain") ||
        !check_cu(cuCtxSetCurrent(context_), "cuCtxSetCurrent") ||
        !check_cu(cuModuleLoadData(&module_, rrto_spec_fatbin), "cuModuleLoadData"))
      return false;
    const char* names[] = {"_ZN4spec6affineEPKfPfffi", "_ZN4spec10accumulateEPfPKffi", "_ZN4spec6negateEPfi",
                           "_ZN4spec7scatterEPKPfPKfii"};
    CUfunction* functions[] = {&affine_, &accumulate_, &negate_, &scatter_};
    for (int k = 0; k < 4; ++k)
      if (!check_cu(cuModuleGetFunction(functions[k], module_, names[k]), names[k])) return false;
    for (CUdeviceptr* p : {&x_, &h_, &y_, &out_, &c0_, &c1_})
      if (!alloc(*p, kElements * sizeof(float))) return false;
    const CUdeviceptr targets[2] = {c0_, c1_};
    return alloc(ptrs_, sizeof targets) && check_cu(cuMemcpyHtoD(ptrs_, targets, sizeof targets), "cuMemcpyHtoD") &&
           check_cu(cuMemsetD32(y_, 0, kElements), "cuMemsetD32");
  }

  // One inference; false on a CUDA error, `mismatch` set on a wrong output.
  bool infer(int i, bool& mismatch) {
    const bool leave = i == opt_.leave_at;
    std::vector<float> x(kElements);
    for (int e = 0; e < kElements; ++e) x[e] = static_cast<float>((i * 31 + e * 7) % 101) / 8.0f;
    std::vector<float> h(kElements), out(kElements);
    if (!upload(x_, x) || !launch_affine(x_, h_, 2.0f, 1.0f) || !download(h, h_)) return false;
    mismatch |= differs("h", i, h, Reference::affine(x, 2.0f, 1.0f));
    if (leave && !leave_pattern()) return false;
    const float s = leave && opt_.scenario == Scenario::Argument ? 2.0f : 1.0f;
    const float a = leave && opt_.scenario == Scenario::Late ? 0.25f : 0.5f;
    if (!launch_accumulate(s) || !launch_affine(y_, out_, a, 0.0f)) return false;
    ref_.accumulate(Reference::affine(x, 2.0f, 1.0f), s);
    std::vector<float> want = Reference::affine(ref_.y, a, 0.0f);
    if (opt_.scenario == Scenario::Pointers) {
      if (!launch_scatter() || !download(out, c1_)) return false;
      for (float& w : want) w = w + 1.0f;
    } else if (!download(out, out_)) {
      return false;
    }
    mismatch |= differs("out", i, out, want);
    return true;
  }

 private:
  // What the program does differently right after its first synchronisation.
  bool leave_pattern() {
    switch (opt_.scenario) {
      case Scenario::Kernel:
        for (float& v : ref_.y) v = -v;
        return launch_negate();
      case Scenario::Upload:
        for (int e = 0; e < kElements; ++e) ref_.y[e] = static_cast<float>(e % 13);
        return upload(y_, ref_.y);
      case Scenario::Free:
        return check_cu(cuMemFree(out_), "cuMemFree") && alloc(out_, kElements * sizeof(float));
      default:
        return true;
    }
  }

  bool alloc(CUdeviceptr& p, size_t bytes) { return check_cu(cuMemAlloc(&p, bytes), "cuMemAlloc"); }
  bool upload(CUdeviceptr dst, const std::vector<float>& v) {
    return check_cu(cuMemcpyHtoD(dst, v.data(), v.size() * sizeof(float)), "cuMemcpyHtoD");
  }
  bool download(std::vector<float>& v, CUdeviceptr src) {
    return check_cu(cuMemcpyDtoH(v.data(), src, v.size() * sizeof(float)), "cuMemcpyDtoH");
  }
  bool launch(CUfunction f, std::vector<void*> params) {
    return check_cu(cuLaunchKernel(f, (kElements + kBlock - 1) / kBlock, 1, 1, kBlock, 1, 1, 0, nullptr,
                                   params.data(), nullptr),
                    "cuLaunchKernel");
  }
  bool launch_affine(CUdeviceptr in, CUdeviceptr out, float a, float b) {
    int n = kElements;
    return launch(affine_, {&in, &out, &a, &b, &n});
  }
  bool launch_accumulate(float s) {
    int n = kElements;
    return launch(accumulate_, {&y_, &h_, &s, &n});
  }
  bool launch_negate() {
    int n = kElements;
    return launch(negate_, {&y_, &n});
  }
  bool launch_scatter() {
    int copies = 2, n = kElements;
    return launch(scatter_, {&ptrs_, &out_, &copies, &n});
  }

  bool differs(const char* what, int i, const std::vector<float>& got, const std::vector<float>& want) const {
    for (size_t e = 0; e < got.size(); ++e) {
      if (examples::float_bits(got[e]) == examples::float_bits(want[e])) continue;
      std::fprintf(stderr, "spec_diverge: inference %d: %s[%zu] is %.9g, expected %.9g\n", i, what, e, got[e],
                   want[e]);
      return true;
    }
    if (!opt_.quiet) std::printf("inference %d: %s exact\n", i, what);
    return false;
  }

  const Options& opt_;
  Reference ref_;
  CUcontext context_ = nullptr;
  CUmodule module_ = nullptr;
  CUfunction affine_ = nullptr, accumulate_ = nullptr, negate_ = nullptr, scatter_ = nullptr;
  CUdeviceptr x_ = 0, h_ = 0, y_ = 0, out_ = 0, c0_ = 0, c1_ = 0, ptrs_ = 0;
};

int usage(const char* message) {
  if (message) std::fprintf(stderr, "spec_diverge: %s\n", message);
  std::fprintf(stderr,
               "usage: spec_diverge --scenario none|argument|kernel|upload|free|late|pointers [--inferences N] "
               "[--leave-at K] [--quiet]\n");
  return 3;
}

bool parse_scenario(const char* name, Scenario& out) {
  for (int s = 0; s < 7; ++s)
    if (std::strcmp(name, kScenarioNames[s]) == 0) {
      out = static_cast<Scenario>(s);
      return true;
    }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  examples::program = "spec_diverge";
  Options opt;
  for (int a = 1; a < argc; ++a) {
    const std::string arg = argv[a];
    const bool has_value = a + 1 < argc;
    if (arg == "--scenario" && has_value) {
      if (!parse_scenario(argv[++a], opt.scenario)) return usage("unknown scenario");
    } else if (arg == "--inferences" && has_value) {
      if (!examples::parse_positive(argv[++a], opt.inferences)) return usage("--inferences takes a positive number");
    } else if (arg == "--leave-at" && has_value) {
      if (!examples::parse_positive(argv[++a], opt.leave_at)) return usage("--leave-at takes a positive number");
    } else if (arg == "--quiet") {
      opt.quiet = true;
    } else {
      return usage(("unknown argument " + arg).c_str());
    }
  }
  Program program(opt);
  if (!program.init()) return 2;
  bool mismatch = false;
  for (int i = 0; i < opt.inferences; ++i)
    if (!program.infer(i, mismatch)) return 2;
  if (!opt.quiet) std::printf("spec_diverge: %s\n", mismatch ? "MISMATCH" : "all outputs exact");
  return mismatch ? 1 : 0;
}

// The synthetic models' kernels (perf/workloads/perf_kernels.cu) against the
// plans they stand for (tracegen): every kernel a plan launches exists in
// librrto_perf_kernels.so with the plan's parameter list, and runs safely on
// buffers of kPerfSpan floats whatever its grid; and the kernels of the
// launch_lat and sleep workloads.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "tracegen/model_plan.h"
#include "server/hostkernel/loader.h"

using namespace rrto;

namespace {

constexpr size_t kSpan = 4096;  // PERF_SPAN

std::unique_ptr<HostKernelLibrary> open_library() {
  std::unique_ptr<HostKernelLibrary> lib;
  std::string error;
  INFO(error);
  REQUIRE(HostKernelLibrary::open(RRTO_PERF_KERNELS, lib, error) == Status::Ok);
  return lib;
}

void check_plan(const tracegen::ModelPlan& plan) {
  const auto lib = open_library();
  // Buffers for every pointer argument, a little more than a span each.
  std::vector<std::vector<float>> buffers;
  for (const tracegen::KernelSig& sig : plan.kernels) {
    INFO(plan.name << ": " << sig.name);
    const HostKernel* kernel = nullptr;
    std::string error;
    REQUIRE_MESSAGE(lib->lookup(sig.name, kernel, error) == Status::Ok, error);
    REQUIRE(kernel->params().size() == sig.param_sizes.size());
    uint32_t offset = 0;
    std::vector<uint64_t> values(sig.param_sizes.size());
    std::vector<void*> args;
    for (size_t i = 0; i < sig.param_sizes.size(); ++i) {
      const uint32_t size = sig.param_sizes[i];
      offset = (offset + size - 1) / size * size;
      CHECK(kernel->params()[i] == HostKernelParam{offset, size});
      offset += size;
      if (size == 8) {  // pointers and the one 64-bit scalar: a buffer serves both
        buffers.emplace_back(kSpan + 64, 0.5f);
        values[i] = reinterpret_cast<uint64_t>(buffers.back().data());
      } else {
        values[i] = 3;
      }
      args.push_back(&values[i]);
    }
    // More threads than the span: the kernels must stop at its end.
    CHECK(kernel->launch(HostDim3{20, 1, 1}, HostDim3{256, 1, 1}, args.data(), &error) == Status::Ok);
  }
}

}  // namespace

TEST_CASE("ResNet-50's kernels") { check_plan(tracegen::resnet50_plan()); }
TEST_CASE("BERT-base's kernels") { check_plan(tracegen::bert_base_plan()); }
TEST_CASE("the detector's kernels") { check_plan(tracegen::detector_plan()); }

TEST_CASE("the launch_lat kernel") {
  const auto lib = open_library();
  const HostKernel* noop = lib->find("rrto_perf_noop");
  REQUIRE(noop != nullptr);
  std::vector<float> data(kSpan, 0.0f);
  float* p = data.data();
  int n = 1;
  void* args[] = {&p, &n};
  REQUIRE(noop->launch(HostDim3{1, 1, 1}, HostDim3{1, 1, 1}, args) == Status::Ok);
  CHECK(data[0] == 1.0f);
  CHECK(data[1] == 0.0f);
}

TEST_CASE("the sleep workload's kernel computes out = 2 in + 1 over n elements") {
  const auto lib = open_library();
  const HostKernel* sleep = lib->find("rrto_perf_sleep");
  REQUIRE(sleep != nullptr);
  std::vector<float> in(kSpan, 1.5f), out(kSpan, 0.0f);
  const float* pin = in.data();
  float* pout = out.data();
  int n = 3, us = 0;
  void* args[] = {&pin, &pout, &n, &us};
  REQUIRE(sleep->launch(HostDim3{1, 1, 1}, HostDim3{4, 1, 1}, args) == Status::Ok);
  CHECK(out[0] == 4.0f);
  CHECK(out[2] == 4.0f);
  CHECK(out[3] == 0.0f);
}

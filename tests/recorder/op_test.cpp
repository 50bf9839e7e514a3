#include <doctest/doctest.h>

#include <array>
#include <cstring>

#include "recorder/kernel.h"
#include "recorder/op.h"
#include "recorder/trace.h"

using namespace rrto;

namespace {

const KernelParam kLayout[] = {{0, 8}, {8, 4}};

std::array<uint8_t, 12> args_of(uint64_t ptr, uint32_t n) {
  std::array<uint8_t, 12> a{};
  std::memcpy(a.data(), &ptr, 8);
  std::memcpy(a.data() + 8, &n, 4);
  return a;
}

}  // namespace

TEST_CASE("kernel table interns identities") {
  KernelTable t;
  const KernelDef* a = t.intern(0x11, "relu", kLayout);
  const KernelDef* b = t.intern(0x22, "relu", kLayout);
  CHECK(a != b);
  CHECK(t.intern(0x11, "relu", {}) == a);
  CHECK(a->params.size() == 2);
  CHECK(t.find(a->id) == a);
  CHECK(t.size() == 2);
  CHECK(t.define(a->id, 0x33, "other", {}) == nullptr);    // id taken
  CHECK(t.define(99, 0x11, "relu", {}) == nullptr);        // identity taken
  const KernelDef* c = t.define(99, 0x33, "other", {});
  REQUIRE(c);
  CHECK(t.intern(0x44, "next", {})->id == 100);
}

TEST_CASE("structural signature ignores argument values, full does not") {
  KernelTable t;
  const KernelDef* k = t.intern(0x11, "relu", kLayout);
  auto a1 = args_of(0x7f0000001000, 64);
  auto a2 = args_of(0x7f0000002000, 64);
  const Op x = Op::launch(*k, {4, 1, 1}, {256, 1, 1}, 0, 1, a1);
  const Op y = Op::launch(*k, {4, 1, 1}, {256, 1, 1}, 0, 1, a2);
  CHECK(x.structural_sig == y.structural_sig);
  CHECK(x.full_sig != y.full_sig);
  CHECK(Op::launch(*k, {4, 1, 1}, {256, 1, 1}, 0, 1, a1).full_sig == x.full_sig);

  CHECK(Op::launch(*k, {5, 1, 1}, {256, 1, 1}, 0, 1, a1).structural_sig != x.structural_sig);
  CHECK(Op::launch(*k, {4, 1, 1}, {128, 1, 1}, 0, 1, a1).structural_sig != x.structural_sig);
  CHECK(Op::launch(*k, {4, 1, 1}, {256, 1, 1}, 16, 1, a1).structural_sig != x.structural_sig);
  CHECK(Op::launch(*k, {4, 1, 1}, {256, 1, 1}, 0, 2, a1).structural_sig != x.structural_sig);
  const KernelDef* other = t.intern(0x12, "relu", kLayout);
  CHECK(Op::launch(*other, {4, 1, 1}, {256, 1, 1}, 0, 1, a1).structural_sig != x.structural_sig);
}

TEST_CASE("signatures do not depend on the process's kernel ids") {
  KernelTable t1, t2;
  t2.intern(0x99, "unrelated", {});
  const KernelDef* k1 = t1.intern(0x11, "gemm", kLayout);
  const KernelDef* k2 = t2.intern(0x11, "gemm", kLayout);
  CHECK(k1->id != k2->id);
  auto a = args_of(1, 2);
  CHECK(Op::launch(*k1, {1, 1, 1}, {1, 1, 1}, 0, 0, a).full_sig ==
        Op::launch(*k2, {1, 1, 1}, {1, 1, 1}, 0, 0, a).full_sig);
}

TEST_CASE("copies: size, direction and stream are structure; device pointers are full; host pointers neither") {
  const Op h = Op::memcpy_htod(0x7f00, 0x5500, 4096, 1, true);
  CHECK(Op::memcpy_htod(0x7f00, 0x5600, 4096, 1, true).full_sig == h.full_sig);
  const Op moved = Op::memcpy_htod(0x7f80, 0x5500, 4096, 1, true);
  CHECK(moved.structural_sig == h.structural_sig);
  CHECK(moved.full_sig != h.full_sig);
  CHECK(Op::memcpy_htod(0x7f00, 0x5500, 8192, 1, true).structural_sig != h.structural_sig);
  CHECK(Op::memcpy_htod(0x7f00, 0x5500, 4096, 1, false).structural_sig != h.structural_sig);
  CHECK(Op::memcpy_dtoh(0x5500, 0x7f00, 4096, 1, true).structural_sig != h.structural_sig);
  CHECK(Op::memcpy_dtod(0x7f00, 0x7e00, 4096, 1, true).structural_sig != h.structural_sig);

  const Op s = Op::memset_d(0x7f00, 0, 4, 1024, 0, false);
  CHECK(s.bytes == 4096);
  CHECK(Op::memset_d(0x7f00, 1, 4, 1024, 0, false).structural_sig == s.structural_sig);
  CHECK(Op::memset_d(0x7f00, 1, 4, 1024, 0, false).full_sig != s.full_sig);
  CHECK(Op::memset_d(0x7f00, 0, 1, 4096, 0, false).structural_sig != s.structural_sig);
}

TEST_CASE("2D copies and memsets: rows and pitches are structure, and a 2D op is never its 1D twin") {
  const Op h = Op::memcpy_2d(OpKind::MemcpyHtoD, 0x7f00, 512, 0x5500, 452, 400, 10, 1, true);
  CHECK(h.bytes == 4000);
  CHECK(h.structural_sig != Op::memcpy_htod(0x7f00, 0x5500, 4000, 1, true).structural_sig);
  CHECK(Op::memcpy_2d(OpKind::MemcpyHtoD, 0x7f00, 512, 0x5500, 452, 400, 10, 1, true).full_sig == h.full_sig);
  CHECK(Op::memcpy_2d(OpKind::MemcpyHtoD, 0x7f00, 1024, 0x5500, 452, 400, 10, 1, true).structural_sig !=
        h.structural_sig);
  CHECK(Op::memcpy_2d(OpKind::MemcpyHtoD, 0x7f00, 512, 0x5500, 452, 200, 20, 1, true).structural_sig !=
        h.structural_sig);
  CHECK(Op::memcpy_2d(OpKind::MemcpyHtoD, 0x7f80, 512, 0x5500, 452, 400, 10, 1, true).full_sig != h.full_sig);
  const Op s = Op::memset_2d(0x7f00, 512, 0, 4, 100, 10, 0, false);
  CHECK(s.bytes == 4000);
  CHECK(s.structural_sig != Op::memset_d(0x7f00, 0, 4, 1000, 0, false).structural_sig);
  CHECK(Op::memset_2d(0x7f00, 1024, 0, 4, 100, 10, 0, false).structural_sig != s.structural_sig);
}

TEST_CASE("operands and their layout") {
  std::array<uint8_t, 16> scratch;
  const Op d = Op::memcpy_dtod(0x10, 0x20, 64, 0, false);
  const auto o = op_operands(d, scratch);
  REQUIRE(o.size() == 16);
  CHECK(operand_layout(d).size() == 2);
  CHECK(op_operands(Op::memcpy_dtoh(0x5500, 0x7f00, 4, 0, false), scratch).size() == 8);
  CHECK(op_operands(Op::stream_synchronize(3), scratch).empty());
  CHECK(op_operands(Op::event_record(9, 3), scratch).size() == 8);
}

TEST_CASE("a trace owns copies of its ops' argument bytes") {
  Trace trace;
  const KernelDef* k = trace.kernels().intern(0x11, "relu", kLayout);
  {
    auto a = args_of(0x1234, 7);
    trace.append(Op::launch(*k, {1, 1, 1}, {32, 1, 1}, 0, 0, a));
    a.fill(0xee);
  }
  trace.append(trace[0]);  // self-append survives reallocation
  for (size_t i = 0; i < trace.size(); ++i) {
    uint64_t ptr = 0;
    std::memcpy(&ptr, trace[i].args, 8);
    CHECK(ptr == 0x1234);
  }
}

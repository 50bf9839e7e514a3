// Speculative continuation of a replayed template (server/speculation.h),
// driven in process with the host backend.
#include <doctest/doctest.h>

#include <cstring>
#include <numeric>

#include "common/limits.h"
#include "server/speculation.h"
#include "tests/server/harness.h"

using namespace rrto;
using namespace rrto::server;
using namespace rrto::server::test;

namespace {

constexpr int kN = 64;
constexpr uint64_t kBytes = kN * sizeof(float);

std::vector<float> floats(std::span<const uint8_t> bytes) {
  std::vector<float> v(bytes.size() / sizeof(float));
  std::memcpy(v.data(), bytes.data(), v.size() * sizeof(float));
  return v;
}

std::vector<float> ramp(float start) {
  std::vector<float> v(kN);
  std::iota(v.begin(), v.end(), start);
  return v;
}

std::vector<float> times(std::vector<float> v, float factor) {
  for (float& x : v) x *= factor;
  return v;
}

// A session with `data` (kN floats) and the in-place scale kernel (data *= 2)
// as function 2. Template 7, once per inference: the input up, a copy back
// (the first synchronisation point), the kernel, and the result back.
struct Scene {
  Harness h;
  transport::PeerId peer = 0;
  uint64_t data = 0;
  uint8_t params[16] = {};

  Scene() {
    peer = h.open_session();
    data = h.alloc(peer, kBytes);
    h.load_kernel(peer, 1, 2, kScaleKernel, layout_bytes({{0, 8}, {8, 4}, {12, 4}}));
    point_kernel_at(data);
  }

  void point_kernel_at(uint64_t buffer) {
    const float factor = 2.0f;
    std::memcpy(params, &buffer, 8);
    std::memcpy(params + 8, &factor, 4);
    std::memcpy(params + 12, &kN, 4);
  }

  void register_template(bool upload_in_continuation = false) {
    proto::BatchWriter calls;
    calls.add(proto::MemcpyHtoD{.dst = data, .size = kBytes});
    calls.add(proto::MemcpyDtoH{.src = data, .size = kBytes});
    if (upload_in_continuation) calls.add(proto::MemcpyHtoD{.dst = data, .size = kBytes});
    calls.add(proto::Launch{.function = 2, .grid = {2, 1, 1}, .block = {32, 1, 1}, .params = proto::Bytes(params)});
    calls.add(proto::MemcpyDtoH{.src = data, .size = kBytes});
    Request r;
    r.add(proto::TemplateRegister{.tmpl = 7, .calls = calls.bytes()});
    REQUIRE(h.send(peer, r).status == CUDA_SUCCESS);
  }

  // Operators 0 and 1 with `input`, continuing to `speculate_to`.
  Outcome replay(const std::vector<float>& input, uint32_t speculate_to = 3) {
    Request r;
    const uint64_t at = r.add_bulk(input.data(), kBytes);
    r.add(proto::ReplaySegment{.tmpl = 7, .first = 0, .last = 1, .input_offset = at, .speculate_to = speculate_to});
    return h.send(peer, r);
  }

  Outcome end(uint32_t kept) {
    Request r;
    r.add(proto::SpeculationEnd{.kept = kept});
    return h.send(peer, r);
  }

  std::vector<float> read(uint64_t buffer) {
    Request r;
    r.add(proto::MemcpyDtoH{.src = buffer, .size = kBytes});
    const Outcome o = h.send(peer, r);
    REQUIRE(o.status == CUDA_SUCCESS);
    return floats(o.bulk);
  }
};

}  // namespace

TEST_CASE("a continuation returns the later outputs, and the segment's own copy back as it was") {
  Scene s;
  s.register_template();
  const Outcome o = s.replay(ramp(1.0f));
  REQUIRE(o.status == CUDA_SUCCESS);
  // The kernel scaled `data` in place after the copy back read it.
  CHECK(floats(o.bulk) == ramp(1.0f));
  const auto result = o.result<proto::ReplaySegmentResult>();
  REQUIRE(result.verdict == proto::kSpeculated);
  CHECK(floats(result.outputs) == times(ramp(1.0f), 2.0f));

  SUBCASE("an end that keeps every operator keeps their effect") {
    REQUIRE(s.end(2).status == CUDA_SUCCESS);
    CHECK(s.read(s.data) == times(ramp(1.0f), 2.0f));
  }
  SUBCASE("an end that keeps none undoes the kernel") {
    REQUIRE(s.end(0).status == CUDA_SUCCESS);
    CHECK(s.read(s.data) == ramp(1.0f));
  }
  SUBCASE("an end that keeps the kernel runs it once on the restored memory") {
    REQUIRE(s.end(1).status == CUDA_SUCCESS);
    CHECK(s.read(s.data) == times(ramp(1.0f), 2.0f));
  }
  SUBCASE("no operator and no replay runs until the speculation ends") {
    Request r;
    r.add(proto::Memset{.dst = s.data, .value = 0, .element_size = 4, .count = kN});
    const Outcome refused = s.h.send(s.peer, r);
    CHECK(refused.status == CUDA_ERROR_INVALID_VALUE);
    CHECK(refused.error().find("before the speculation of template 7 was ended") != std::string::npos);
    CHECK(s.replay(ramp(0.0f)).status == CUDA_ERROR_INVALID_VALUE);
    REQUIRE(s.end(0).status == CUDA_SUCCESS);
    CHECK(s.replay(ramp(0.0f)).status == CUDA_SUCCESS);
  }
  SUBCASE("an end that keeps more than ran is refused") {
    CHECK(s.end(3).status == CUDA_ERROR_INVALID_VALUE);
  }
}

TEST_CASE("a large allocation the continuation wrote is put back whole") {
  Scene s;
  constexpr uint64_t kLarge = 3u << 20;  // more than a session keeps saved between speculations
  const uint64_t large = s.h.alloc(s.peer, kLarge);
  Request fill;
  fill.add(proto::Memset{.dst = large, .value = 0x01020304, .element_size = 4, .count = kLarge / 4});
  REQUIRE(s.h.send(s.peer, fill).status == CUDA_SUCCESS);
  proto::BatchWriter calls;
  calls.add(proto::MemcpyHtoD{.dst = s.data, .size = kBytes});
  calls.add(proto::MemcpyDtoH{.src = s.data, .size = kBytes});
  calls.add(proto::Memset{.dst = large, .value = 0, .element_size = 4, .count = kLarge / 4});
  calls.add(proto::MemcpyDtoH{.src = s.data, .size = kBytes});
  Request r;
  r.add(proto::TemplateRegister{.tmpl = 7, .calls = calls.bytes()});
  REQUIRE(s.h.send(s.peer, r).status == CUDA_SUCCESS);
  for (int round = 0; round < 2; ++round) {
    const Outcome o = s.replay(ramp(1.0f));
    REQUIRE(o.status == CUDA_SUCCESS);
    REQUIRE(o.result<proto::ReplaySegmentResult>().verdict == proto::kSpeculated);
    REQUIRE(s.end(0).status == CUDA_SUCCESS);
    Request read;
    read.add(proto::MemcpyDtoH{.src = large + kLarge - 4, .size = 4});
    const Outcome last = s.h.send(s.peer, read);
    REQUIRE(last.bulk.size() == 4);
    uint32_t word = 0;
    std::memcpy(&word, last.bulk.data(), 4);
    CHECK(word == 0x01020304u);
  }
}

TEST_CASE("an end with nothing outstanding does nothing") {
  Scene s;
  s.register_template();
  CHECK(s.end(0).status == CUDA_SUCCESS);
  CHECK(s.replay(ramp(0.0f), 0).status == CUDA_SUCCESS);
  CHECK(s.end(5).status == CUDA_SUCCESS);
}

TEST_CASE("memory freed before the end is not written back") {
  Scene s;
  s.register_template();
  REQUIRE(s.replay(ramp(1.0f)).status == CUDA_SUCCESS);
  Request free_it;
  free_it.add(proto::MemFree{.dptr = s.data});
  REQUIRE(s.h.send(s.peer, free_it).status == CUDA_SUCCESS);
  // The same range again, for another buffer: the saved bytes must not land there.
  const uint64_t again = s.h.alloc(s.peer, kBytes);
  REQUIRE(again == s.data);
  REQUIRE(s.end(0).status == CUDA_SUCCESS);
  CHECK(s.read(again) != ramp(1.0f));
}

TEST_CASE("what a continuation cannot cover is not speculated, and says why") {
  Scene s;
  SUBCASE("an upload needs the program's data") {
    s.register_template(true);
    const Outcome o = s.replay(ramp(1.0f), 4);
    REQUIRE(o.status == CUDA_SUCCESS);
    CHECK(o.result<proto::ReplaySegmentResult>().verdict == proto::kSpecUnsupportedCall);
  }
  SUBCASE("a kernel argument pointing at memory that holds device pointers") {
    const uint64_t table = s.h.alloc(s.peer, kBytes);
    Request fill;
    const uint64_t at = fill.add_bulk(&s.data, 8);
    fill.add(proto::MemcpyHtoD{.dst = table, .size = 8, .bulk_offset = at});
    REQUIRE(s.h.send(s.peer, fill).status == CUDA_SUCCESS);
    s.point_kernel_at(table);
    s.register_template();
    const Outcome o = s.replay(ramp(1.0f));
    REQUIRE(o.status == CUDA_SUCCESS);
    CHECK(o.result<proto::ReplaySegmentResult>().verdict == proto::kSpecPointerArrays);
  }
  SUBCASE("a continuation past the template") {
    s.register_template();
    CHECK(s.replay(ramp(1.0f), 4).status == CUDA_ERROR_INVALID_VALUE);
  }
  // Nothing is outstanding after a refusal: operators run.
  Request r;
  r.add(proto::Memset{.dst = s.data, .value = 0, .element_size = 4, .count = kN});
  CHECK(s.h.send(s.peer, r).status == CUDA_SUCCESS);
}

TEST_CASE("device pointers are found at 8-byte-aligned words only, inside allocations only") {
  AllocationTable table;
  REQUIRE(table.insert({.base = 0x10000, .size = 0x1000}));
  auto bytes_of = [](std::initializer_list<uint64_t> words, size_t shift = 0) {
    std::vector<uint8_t> out(shift + words.size() * 8);
    size_t at = shift;
    for (uint64_t w : words) {
      std::memcpy(out.data() + at, &w, 8);
      at += 8;
    }
    return out;
  };
  CHECK(holds_device_pointers(bytes_of({1, 0x10800}), table));
  CHECK_FALSE(holds_device_pointers(bytes_of({1, 0x11000, 0xffff}), table));
  CHECK_FALSE(holds_device_pointers(bytes_of({0x10800}, 4), table));
  CHECK_FALSE(holds_device_pointers(bytes_of({0x10800}), AllocationTable()));
}

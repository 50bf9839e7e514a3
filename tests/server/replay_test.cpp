// Templates and ReplaySegment, driven in process with the host backend.
#include <doctest/doctest.h>

#include <cstring>
#include <numeric>

#include <fmt/format.h>

#include "common/limits.h"
#include "tests/server/harness.h"

using namespace rrto;
using namespace rrto::server;
using namespace rrto::server::test;

namespace {

constexpr int kN = 64;

struct Scene {
  Harness h;
  transport::PeerId peer = 0;
  uint64_t data = 0;
  uint8_t params[16] = {};

  // A session with a buffer of kN floats and the scale kernel as function 2.
  Scene() {
    peer = h.open_session();
    data = h.alloc(peer, kN * sizeof(float));
    h.load_kernel(peer, 1, 2, kScaleKernel, layout_bytes({{0, 8}, {8, 4}, {12, 4}}));
    set_factor(2.0f);
  }

  void set_factor(float factor) {
    std::memcpy(params, &data, 8);
    std::memcpy(params + 8, &factor, 4);
    std::memcpy(params + 12, &kN, 4);
  }

  // Template 7: input up, scale, output down.
  proto::BatchWriter inference() {
    proto::BatchWriter calls;
    calls.add(proto::MemcpyHtoD{.dst = data, .size = kN * sizeof(float)});
    calls.add(proto::Launch{.function = 2, .grid = {2, 1, 1}, .block = {32, 1, 1}, .params = proto::Bytes(params)});
    calls.add(proto::MemcpyDtoH{.src = data, .size = kN * sizeof(float)});
    return calls;
  }

  Outcome register_template(const proto::BatchWriter& calls) {
    Request r;
    r.add(proto::TemplateRegister{.tmpl = 7, .calls = calls.bytes()});
    return h.send(peer, r);
  }

  Outcome replay(const std::vector<float>& input, std::span<const uint8_t> deltas = {}, uint32_t first = 0,
                 uint32_t last = 2) {
    Request r;
    const uint64_t at = r.add_bulk(input.data(), input.size() * sizeof(float));
    r.add(proto::ReplaySegment{.tmpl = 7, .first = first, .last = last, .input_offset = at, .deltas = deltas});
    return h.send(peer, r);
  }
};

std::vector<float> ramp(float start) {
  std::vector<float> v(kN);
  std::iota(v.begin(), v.end(), start);
  return v;
}

std::vector<float> floats(const std::vector<uint8_t>& bytes) {
  std::vector<float> v(bytes.size() / sizeof(float));
  std::memcpy(v.data(), bytes.data(), v.size() * sizeof(float));
  return v;
}

}  // namespace

TEST_CASE("a registered template runs with fresh inputs, and its input lands in device memory") {
  Scene s;
  REQUIRE(s.register_template(s.inference()).status == CUDA_SUCCESS);
  for (float start : {0.0f, 100.0f}) {
    const Outcome o = s.replay(ramp(start));
    REQUIRE(o.status == CUDA_SUCCESS);
    CHECK(o.landed_at(s.data));
    const auto out = floats(o.bulk);
    REQUIRE(out.size() == kN);
    for (int i = 0; i < kN; ++i) CHECK(out[i] == (start + i) * 2.0f);
  }
}

TEST_CASE("a delta replaces a launch's arguments") {
  Scene s;
  REQUIRE(s.register_template(s.inference()).status == CUDA_SUCCESS);
  s.set_factor(3.0f);
  std::vector<uint8_t> deltas;
  ByteWriter w(deltas);
  w.put<uint32_t>(1);
  w.put_blob(s.params);
  const Outcome o = s.replay(ramp(1.0f), deltas);
  REQUIRE(o.status == CUDA_SUCCESS);
  const auto out = floats(o.bulk);
  for (int i = 0; i < kN; ++i) CHECK(out[i] == (1.0f + i) * 3.0f);

  SUBCASE("a delta of the wrong size or for a copy is refused") {
    std::vector<uint8_t> bad;
    ByteWriter b(bad);
    b.put<uint32_t>(1);
    b.put_blob(std::span<const uint8_t>(s.params, 12));
    CHECK(s.replay(ramp(0), bad).status == CUDA_ERROR_INVALID_VALUE);
    std::vector<uint8_t> on_copy;
    ByteWriter c(on_copy);
    c.put<uint32_t>(0);
    c.put_blob(s.params);
    CHECK(s.replay(ramp(0), on_copy).status == CUDA_ERROR_INVALID_VALUE);
    const uint8_t garbage[3] = {1, 2, 3};
    CHECK(s.replay(ramp(0), garbage).status == CUDA_ERROR_INVALID_VALUE);
  }
}

TEST_CASE("a segment runs part of a template; a copy back may only end it") {
  Scene s;
  REQUIRE(s.register_template(s.inference()).status == CUDA_SUCCESS);
  const Outcome up = s.replay(ramp(5.0f), {}, 0, 1);  // input and launch, no copy back
  REQUIRE(up.status == CUDA_SUCCESS);
  CHECK(up.bulk.empty());
  const Outcome read = s.h.read(s.peer, s.data, kN * sizeof(float));
  REQUIRE(read.status == CUDA_SUCCESS);
  CHECK(floats(read.bulk)[3] == 16.0f);

  proto::BatchWriter copy_in_middle;
  copy_in_middle.add(proto::MemcpyDtoH{.src = s.data, .size = 4});
  copy_in_middle.add(proto::Launch{.function = 2, .grid = {2, 1, 1}, .block = {32, 1, 1}, .params = proto::Bytes(s.params)});
  REQUIRE(s.register_template(copy_in_middle).status == CUDA_SUCCESS);
  CHECK(s.replay({}, {}, 0, 1).status == CUDA_ERROR_INVALID_VALUE);
  CHECK(s.replay({}, {}, 1, 5).status == CUDA_ERROR_INVALID_VALUE);  // past the end
}

TEST_CASE("nothing runs after a replay's copy back in the same batch: its bytes are not freed under the reply") {
  Scene s;
  REQUIRE(s.register_template(s.inference()).status == CUDA_SUCCESS);
  const std::vector<float> input = ramp(2.0f);
  Request r;
  const uint64_t at = r.add_bulk(input.data(), input.size() * sizeof(float));
  r.add(proto::ReplaySegment{.tmpl = 7, .first = 0, .last = 2, .input_offset = at});
  r.add(proto::MemFree{.dptr = s.data});
  const Outcome o = s.h.send(s.peer, r);
  CHECK(o.status == CUDA_ERROR_INVALID_VALUE);
  CHECK(o.call_index == 1);
  CHECK(o.bulk.empty());
  CHECK_FALSE(o.closed);
  // The buffer was not freed: it still holds the replay's output.
  const Outcome read = s.h.read(s.peer, s.data, kN * sizeof(float));
  REQUIRE(read.status == CUDA_SUCCESS);
  CHECK(floats(read.bulk)[1] == 6.0f);
}

TEST_CASE("replay of an unknown or dropped template fails, the session goes on") {
  Scene s;
  const Outcome unknown = s.replay(ramp(0));
  CHECK(unknown.status == CUDA_ERROR_INVALID_HANDLE);
  CHECK_FALSE(unknown.closed);
  REQUIRE(s.register_template(s.inference()).status == CUDA_SUCCESS);
  Request drop;
  drop.add(proto::TemplateDrop{.tmpl = 7});
  REQUIRE(s.h.send(s.peer, drop).status == CUDA_SUCCESS);
  CHECK(s.replay(ramp(0)).status == CUDA_ERROR_INVALID_HANDLE);

  SUBCASE("freeing memory drops the templates") {
    REQUIRE(s.register_template(s.inference()).status == CUDA_SUCCESS);
    const uint64_t other = s.h.alloc(s.peer, 16);
    Request free;
    free.add(proto::MemFree{.dptr = other});
    REQUIRE(s.h.send(s.peer, free).status == CUDA_SUCCESS);
    CHECK(s.replay(ramp(0)).status == CUDA_ERROR_INVALID_HANDLE);
  }
  SUBCASE("too few input bytes") {
    REQUIRE(s.register_template(s.inference()).status == CUDA_SUCCESS);
    std::vector<float> short_input(kN / 2);
    CHECK(s.replay(short_input).status == CUDA_ERROR_INVALID_VALUE);
  }
}

TEST_CASE("a template holds only operators, and a malformed one is refused") {
  Scene s;
  proto::BatchWriter with_alloc;
  with_alloc.add(proto::MemAlloc{.size = 16});
  const Outcome o = s.register_template(with_alloc);
  CHECK(o.status == CUDA_ERROR_INVALID_VALUE);
  CHECK(o.error().find("not an operator") != std::string::npos);
  CHECK_FALSE(o.closed);
  const uint8_t junk[5] = {1, 0, 0, 0, 9};
  Request r;
  r.add(proto::TemplateRegister{.tmpl = 8, .calls = proto::Bytes(junk)});
  CHECK(s.h.send(s.peer, r).status == CUDA_ERROR_INVALID_VALUE);
}

TEST_CASE("another session cannot replay a session's template") {
  Scene s;
  REQUIRE(s.register_template(s.inference()).status == CUDA_SUCCESS);
  const auto other = s.h.open_session();
  Request r;
  std::vector<float> input = ramp(0);
  const uint64_t at = r.add_bulk(input.data(), input.size() * sizeof(float));
  r.add(proto::ReplaySegment{.tmpl = 7, .first = 0, .last = 2, .input_offset = at});
  CHECK(s.h.send(other, r).status == CUDA_ERROR_INVALID_HANDLE);
}

TEST_CASE("registrations past the template limits are refused, and the session goes on") {
  Scene s;
  auto register_as = [&](uint32_t id, const proto::BatchWriter& calls) {
    Request r;
    r.add(proto::TemplateRegister{.tmpl = id, .calls = calls.bytes()});
    return s.h.send(s.peer, r);
  };
  const proto::BatchWriter inference = s.inference();
  for (uint32_t id = 0; id < limits::kReplayTemplates; ++id) REQUIRE(register_as(id, inference).status == CUDA_SUCCESS);

  const Outcome one_more = register_as(limits::kReplayTemplates, inference);
  CHECK(one_more.status == CUDA_ERROR_INVALID_VALUE);
  CHECK(one_more.error().find(fmt::format("at most {} templates", limits::kReplayTemplates)) != std::string::npos);
  CHECK_FALSE(one_more.closed);
  CHECK(register_as(3, inference).status == CUDA_SUCCESS);  // replacing one is not one more

  // The program's CUDA graphs have room of their own.
  for (uint32_t i = 0; i < limits::kGraphTemplates; ++i)
    REQUIRE(register_as(limits::kGraphTemplateIds + i, inference).status == CUDA_SUCCESS);
  const Outcome one_more_graph = register_as(limits::kGraphTemplateIds + limits::kGraphTemplates, inference);
  CHECK(one_more_graph.status == CUDA_ERROR_INVALID_VALUE);
  CHECK(one_more_graph.error().find(fmt::format("at most {} graph templates", limits::kGraphTemplates)) !=
        std::string::npos);
  Request drop_graph;
  drop_graph.add(proto::TemplateDrop{.tmpl = limits::kGraphTemplateIds});
  REQUIRE(s.h.send(s.peer, drop_graph).status == CUDA_SUCCESS);
  CHECK(register_as(limits::kGraphTemplateIds + limits::kGraphTemplates, inference).status == CUDA_SUCCESS);

  proto::BatchWriter longest, too_long;
  for (uint32_t i = 0; i < limits::kTemplateOperators; ++i) longest.add(proto::CtxSynchronize{});
  too_long = longest;
  too_long.add(proto::CtxSynchronize{});
  const Outcome refused = register_as(5, too_long);
  CHECK(refused.status == CUDA_ERROR_INVALID_VALUE);
  CHECK(refused.error().find("operators, more than the") != std::string::npos);
  CHECK_FALSE(refused.closed);
  CHECK(register_as(5, longest).status == CUDA_SUCCESS);

  // Template 0 still runs.
  Request r;
  const std::vector<float> input = ramp(1.0f);
  const uint64_t at = r.add_bulk(input.data(), input.size() * sizeof(float));
  r.add(proto::ReplaySegment{.tmpl = 0, .first = 0, .last = 2, .input_offset = at});
  const Outcome replayed = s.h.send(s.peer, r);
  REQUIRE(replayed.status == CUDA_SUCCESS);
  CHECK(floats(replayed.bulk)[1] == 4.0f);
}

// The bar for the Operator Sequence Search on model-shaped traces: the right
// iteration, found within three iterations after the noise, never a layer.
#include <doctest/doctest.h>

#include "tests/matcher/matcher_test_util.h"

using namespace rrto;
using namespace rrto::tracegen;

namespace {

Options noisy(Model model) {
  Options o;
  o.workloads = {{model, 8}};
  o.iterations = 8;
  o.noise.init_ops = 800;
  o.noise.weight_uploads = true;
  o.noise.autotune_runs = 3;
  o.noise.warmup_iterations = 3;
  o.noise.first_iteration_differs = true;
  o.pointer_changes = true;
  o.changing_scalar = true;
  o.seed = 7;
  return o;
}

void check_finds_iteration(const Options& o) {
  Trace trace;
  Truth truth;
  generate(o, trace, &truth);
  Matcher m;
  const auto seen = test::run_matcher(m, trace.ops());

  REQUIRE(seen.confirmed.size() == 1);
  const Template* t = m.find_template(seen.confirmed[0].tmpl);
  REQUIRE(t != nullptr);
  CHECK(t->length() == truth.regular_length[0]);
  CHECK(test::is_iteration_start(truth, t->boundary(), 0));
  CHECK(t->boundary() >= truth.noise_end);
  CHECK(seen.confirmed[0].op_index <= test::end_of_iteration(truth, 2));
  CHECK(seen.broken.empty());
  // From the confirmation on, every op of the steady state is matched.
  for (uint64_t i = seen.confirmed[0].op_index + 1; i < trace.size(); ++i) {
    REQUIRE(seen.events[i].kind == MatchEventKind::Matched);
    CHECK(seen.events[i].tmpl == t->id());
  }
  uint64_t from_boundary = 0;
  for (const auto& it : truth.iterations) from_boundary += it.start >= t->boundary();
  CHECK(t->occurrences() == from_boundary);
}

}  // namespace

TEST_CASE("finds the ResNet-50 iteration after noise within three iterations") {
  check_finds_iteration(noisy(Model::ResNet50));
}

TEST_CASE("finds the BERT-base iteration, not its layer period") {
  check_finds_iteration(noisy(Model::BertBase));
  Trace trace;
  Truth truth;
  Options o = noisy(Model::BertBase);
  o.noise = {};
  o.iterations = 4;
  generate(o, trace, &truth);
  Matcher m;
  const auto seen = test::run_matcher(m, trace.ops());
  REQUIRE(seen.confirmed.size() == 1);
  CHECK(m.find_template(seen.confirmed[0].tmpl)->length() == truth.regular_length[0]);
  CHECK(truth.regular_length[0] > 12 * 57);
}

TEST_CASE("finds the detector iteration across its mid-iteration readback") {
  check_finds_iteration(noisy(Model::Detector));
}

TEST_CASE("clean traces confirm after two iterations") {
  for (Model model : {Model::ResNet50, Model::BertBase, Model::Detector}) {
    CAPTURE(model_name(model));
    Options o;
    o.workloads = {{model, 4}};
    o.iterations = 5;
    Trace trace;
    Truth truth;
    generate(o, trace, &truth);
    Matcher m;
    const auto seen = test::run_matcher(m, trace.ops());
    REQUIRE(seen.confirmed.size() == 1);
    CHECK(seen.confirmed[0].op_index == test::end_of_iteration(truth, 1));
    CHECK(m.find_template(seen.confirmed[0].tmpl)->boundary() == truth.iterations[0].start);
  }
}

TEST_CASE("an input upload right after the weight uploads") {
  // The first iteration's input copy follows weight copies, so nothing marks
  // it as an iteration start; the next two iterations confirm.
  Options o;
  o.workloads = {{Model::ResNet50, 1}};
  o.iterations = 6;
  o.noise.weight_uploads = true;
  Trace trace;
  Truth truth;
  generate(o, trace, &truth);
  Matcher m;
  const auto seen = test::run_matcher(m, trace.ops());
  REQUIRE(seen.confirmed.size() == 1);
  CHECK(seen.confirmed[0].op_index == test::end_of_iteration(truth, 2));
  CHECK(m.find_template(seen.confirmed[0].tmpl)->boundary() == truth.iterations[1].start);
}

TEST_CASE("the iteration is found for any noise seed") {
  for (Model model : {Model::ResNet50, Model::BertBase, Model::Detector}) {
    for (uint64_t seed = 1; seed <= 12; ++seed) {
      CAPTURE(model_name(model));
      CAPTURE(seed);
      Options o = noisy(model);
      o.seed = seed;
      o.noise.init_ops = 200 * static_cast<uint32_t>(seed);
      o.noise.warmup_iterations = static_cast<uint32_t>(seed % 4);
      o.noise.autotune_runs = static_cast<uint32_t>(seed % 3);
      o.noise.first_iteration_differs = seed % 2 == 0;
      o.workloads[0].batch = 1 + static_cast<uint32_t>(seed % 5);
      check_finds_iteration(o);
    }
  }
}

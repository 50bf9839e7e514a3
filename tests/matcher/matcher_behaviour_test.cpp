#include <doctest/doctest.h>

#include <algorithm>

#include "tests/matcher/matcher_test_util.h"

using namespace rrto;
using namespace rrto::tracegen;

namespace {

const Template* template_of_length(const Matcher& m, uint32_t length) {
  for (size_t i = 0; i < m.template_count(); ++i) {
    if (m.template_at(i).length() == length) return &m.template_at(i);
  }
  return nullptr;
}

// Copies `src` into `dst`, replacing op `at` with `replacement`.
void copy_with(const Trace& src, Trace& dst, uint64_t at, const Op& replacement) {
  for (uint64_t i = 0; i < src.size(); ++i) dst.append(i == at ? replacement : src[i]);
}

}  // namespace

TEST_CASE("two alternating models give two templates") {
  Options o;
  o.workloads = {{Model::ResNet50, 8}, {Model::BertBase, 8}};
  o.iterations = 12;
  o.noise.init_ops = 300;
  o.noise.weight_uploads = true;
  o.pointer_changes = true;
  Trace trace;
  Truth truth;
  generate(o, trace, &truth);
  Matcher m;
  const auto seen = test::run_matcher(m, trace.ops());

  REQUIRE(seen.confirmed.size() == 2);
  const Template* resnet = template_of_length(m, truth.regular_length[0]);
  const Template* bert = template_of_length(m, truth.regular_length[1]);
  REQUIRE(resnet);
  REQUIRE(bert);
  CHECK(test::is_iteration_start(truth, resnet->boundary(), 0));
  CHECK(test::is_iteration_start(truth, bert->boundary(), 1));
  // Each within three of its own iterations (they alternate: 0 2 4, 1 3 5).
  CHECK(resnet->confirmed_at() <= test::end_of_iteration(truth, 4));
  CHECK(bert->confirmed_at() <= test::end_of_iteration(truth, 5));
  // Once both are known, every op belongs to one of them.
  for (uint64_t i = seen.confirmed[1].op_index + 1; i < trace.size(); ++i) {
    REQUIRE(seen.events[i].kind == MatchEventKind::Matched);
  }
}

TEST_CASE("two alternating input shapes give two templates") {
  // Same model, same first op kind: the shapes differ from the input copy on.
  Options o;
  o.workloads = {{Model::Detector, 4}, {Model::Detector, 1}};
  o.iterations = 10;
  Trace trace;
  Truth truth;
  generate(o, trace, &truth);
  Matcher m;
  const auto seen = test::run_matcher(m, trace.ops());
  CHECK(seen.confirmed.size() == 2);
  CHECK(m.template_count() == 2);
}

TEST_CASE("a per-iteration scalar argument is marked variable") {
  for (Model model : {Model::ResNet50, Model::BertBase, Model::Detector}) {
    CAPTURE(model_name(model));
    Options o;
    o.workloads = {{model, 2}};
    o.iterations = 5;
    o.changing_scalar = true;
    o.noise.init_ops = 100;
    Trace trace;
    Truth truth;
    generate(o, trace, &truth);
    Matcher m;
    const auto seen = test::run_matcher(m, trace.ops());
    REQUIRE(seen.confirmed.size() == 1);
    const Template* t = m.find_template(seen.confirmed[0].tmpl);
    // Without pointer changes the scalar is the only thing that varies.
    REQUIRE(t->variables().size() == 1);
    const VariableArg& v = t->variables()[0];
    CHECK(v.position == truth.scalar_position[0]);
    CHECK(v.param == static_cast<int32_t>(truth.scalar_param[0]));
    CHECK(v.size == 8);
    // Later iterations change it again: reported, but nothing new to learn.
    for (uint64_t i = seen.confirmed[0].op_index + 1; i < trace.size(); ++i) {
      const bool scalar_op = (i - t->boundary()) % t->length() == v.position;
      CHECK(seen.events[i].args_changed == scalar_op);
      CHECK_FALSE(seen.events[i].widened);
    }
  }
}

TEST_CASE("pointers that alternate between iterations are variable, not a mismatch") {
  Options o;
  o.workloads = {{Model::ResNet50, 2}};
  o.iterations = 6;
  o.pointer_changes = true;
  Trace trace;
  Truth truth;
  generate(o, trace, &truth);
  Matcher m;
  const auto seen = test::run_matcher(m, trace.ops());
  REQUIRE(seen.confirmed.size() == 1);
  const Template* t = m.find_template(seen.confirmed[0].tmpl);
  CHECK(t->variables().size() > 100);
  // The input copy's device pointer is its parameter 0.
  REQUIRE(!t->variables_at(0).empty());
  CHECK(t->variables_at(0)[0].param == 0);
  for (const auto& ev : seen.events) CHECK_FALSE(ev.widened);
}

TEST_CASE("a random stream yields no template") {
  Trace trace;
  generate_random(100000, 99, trace);
  Matcher m;
  const auto seen = test::run_matcher(m, trace.ops());
  CHECK(seen.confirmed.empty());
  CHECK(m.template_count() == 0);
  CHECK(std::all_of(seen.events.begin(), seen.events.end(),
                    [](const MatchEvent& e) { return e.kind == MatchEventKind::None; }));
}

TEST_CASE("a template that stops matching is reported broken on the first differing op") {
  Options o;
  o.workloads = {{Model::ResNet50, 4}};
  o.iterations = 8;
  o.noise.init_ops = 100;
  Trace clean;
  Truth truth;
  generate(o, clean, &truth);

  SUBCASE("a different kernel inside an iteration") {
    const uint64_t at = truth.iterations[5].start + 57;
    Op changed = clean[at];
    changed.grid.x += 1;
    changed.seal();
    Trace trace;
    copy_with(clean, trace, at, changed);
    Matcher m;
    const auto seen = test::run_matcher(m, trace.ops());
    REQUIRE(seen.confirmed.size() == 1);
    REQUIRE(seen.broken.size() == 1);
    CHECK(seen.broken[0].op_index == at);
    CHECK(seen.broken[0].tmpl == seen.confirmed[0].tmpl);
    CHECK(seen.broken[0].position == 57);
    // The rest of that iteration is not matched; the next one is again.
    CHECK(seen.events[at + 1].kind == MatchEventKind::None);
    CHECK(seen.events[truth.iterations[6].start].kind == MatchEventKind::Matched);
    CHECK(seen.events.back().kind == MatchEventKind::Matched);
  }
  SUBCASE("a different input size starts an iteration") {
    const uint64_t at = truth.iterations[5].start;
    Op changed = clean[at];
    changed.bytes /= 2;
    changed.seal();
    Trace trace;
    copy_with(clean, trace, at, changed);
    Matcher m;
    const auto seen = test::run_matcher(m, trace.ops());
    REQUIRE(seen.broken.size() == 1);
    CHECK(seen.broken[0].op_index == at);
    CHECK(seen.broken[0].position == truth.regular_length[0]);
  }
  SUBCASE("an iteration cut short") {
    // Drop the tail of iteration 5 after op 100: the next input copy
    // arrives where the template expected op 100.
    Trace trace;
    const uint64_t cut = truth.iterations[5].start + 100;
    for (uint64_t i = 0; i < clean.size(); ++i) {
      if (i < cut || i >= truth.iterations[6].start) trace.append(clean[i]);
    }
    Matcher m;
    const auto seen = test::run_matcher(m, trace.ops());
    REQUIRE(seen.broken.size() == 1);
    CHECK(seen.broken[0].op_index == cut);
    CHECK(seen.broken[0].position == 100);
  }
}

TEST_CASE("an argument that was constant and then changes widens the template") {
  Options o;
  o.workloads = {{Model::ResNet50, 2}};
  o.iterations = 5;
  Trace clean;
  Truth truth;
  generate(o, clean, &truth);
  const uint64_t at = truth.iterations[3].start + 10;
  Op changed = clean[at];
  REQUIRE(changed.kind == OpKind::KernelLaunch);
  std::vector<uint8_t> args(changed.args, changed.args + changed.args_size);
  args.back() ^= 0x5a;
  changed.args = args.data();
  changed.seal();
  Trace trace;
  copy_with(clean, trace, at, changed);
  Matcher m;
  const auto seen = test::run_matcher(m, trace.ops());
  REQUIRE(seen.confirmed.size() == 1);
  CHECK(seen.broken.empty());
  CHECK(seen.events[at].kind == MatchEventKind::Matched);
  CHECK(seen.events[at].args_changed);
  CHECK(seen.events[at].widened);
  const Template* t = m.find_template(seen.confirmed[0].tmpl);
  REQUIRE(t->variables().size() == 1);
  CHECK(t->variables()[0].position == 10);
  CHECK(t->variables()[0].param == static_cast<int32_t>(clean[at].kernel->params.size() - 1));
}

TEST_CASE("confirm_repeats sets how many identical iterations confirm") {
  Options o;
  o.workloads = {{Model::Detector, 2}};
  o.iterations = 6;
  Trace trace;
  Truth truth;
  generate(o, trace, &truth);
  for (uint32_t repeats : {2u, 3u, 4u}) {
    CAPTURE(repeats);
    MatcherConfig config;
    config.confirm_repeats = repeats;
    Matcher m(config);
    const auto seen = test::run_matcher(m, trace.ops());
    REQUIRE(seen.confirmed.size() == 1);
    CHECK(seen.confirmed[0].op_index == test::end_of_iteration(truth, repeats - 1));
    CHECK(m.find_template(seen.confirmed[0].tmpl)->occurrences() == o.iterations);
  }
}

TEST_CASE("history bounds what can be found, and memory does not grow") {
  Options o;
  o.workloads = {{Model::ResNet50, 1}};
  o.iterations = 200;
  Trace trace;
  Truth truth;
  generate(o, trace, &truth);
  SUBCASE("an iteration longer than half the history is never confirmed") {
    MatcherConfig config;
    config.history_ops = 512;
    Matcher m(config);
    const auto seen = test::run_matcher(m, std::span(trace.ops()).first(10 * truth.regular_length[0]));
    CHECK(seen.confirmed.empty());
  }
  SUBCASE("a small history still finds a shorter iteration and runs for long") {
    MatcherConfig config;
    config.history_ops = 1024;
    config.history_arg_bytes = 64 * 1024;
    Matcher m(config);
    const auto seen = test::run_matcher(m, trace.ops());
    CHECK(seen.confirmed.size() == 1);
    CHECK(m.template_count() == 1);
    CHECK(seen.events.back().kind == MatchEventKind::Matched);
  }
}

TEST_CASE("the least recently used template makes room") {
  MatcherConfig config;
  config.max_templates = 2;
  Options o;
  o.workloads = {{Model::Detector, 1}, {Model::Detector, 2}, {Model::Detector, 3}};
  o.iterations = 30;
  Trace trace;
  generate(o, trace);
  Matcher m(config);
  test::run_matcher(m, trace.ops());
  CHECK(m.template_count() == 2);
}

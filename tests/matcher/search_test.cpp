#include <doctest/doctest.h>

#include "matcher/search.h"
#include "tracegen/tracegen.h"

using namespace rrto;
using namespace rrto::tracegen;

TEST_CASE("offline search reports prefix, iteration and variables") {
  Options o;
  o.workloads = {{Model::BertBase, 4}};
  o.iterations = 6;
  o.noise.init_ops = 500;
  o.noise.weight_uploads = true;
  o.noise.warmup_iterations = 2;
  o.changing_scalar = true;
  Trace trace;
  Truth truth;
  generate(o, trace, &truth);
  const SearchResult r = search(trace.ops());
  CHECK(r.ops == trace.size());
  REQUIRE(r.templates.size() == 1);
  CHECK(r.iteration_length == truth.regular_length[0]);
  CHECK(r.prefix_length == truth.noise_end);
  CHECK(r.boundary == truth.noise_end);
  CHECK(r.matched_ops == trace.size() - truth.noise_end);
  CHECK(r.broken_events == 0);
  const TemplateReport& t = r.templates[0];
  CHECK(t.ops_consumed == t.confirmed_at + 1);
  CHECK(t.occurrences == o.iterations);
  CHECK(t.confirming == 2);
  CHECK(t.before_boundary == 0);  // the warm-ups end with a copy back: the first iteration has its boundary
  REQUIRE(t.variables.size() == 1);
  CHECK(t.variables[0].kind == OpKind::KernelLaunch);
  REQUIRE(t.variables[0].kernel);
  CHECK(t.variables[0].kernel->name == "embedding_gather");
}

TEST_CASE("offline search: an iteration right after the set-up's uploads is counted apart, no occurrence") {
  Options o;
  o.workloads = {{Model::ResNet50, 1}};
  o.iterations = 7;
  o.noise.weight_uploads = true;
  Trace trace;
  Truth truth;
  generate(o, trace, &truth);
  const uint32_t length = truth.regular_length[0];
  for (const uint32_t repeats : {2u, 3u}) {
    CAPTURE(repeats);
    const SearchResult r = search(trace.ops(), MatcherConfig{.confirm_repeats = repeats});
    REQUIRE(r.templates.size() == 1);
    const TemplateReport& t = r.templates[0];
    // The first input's upload follows the weights' uploads, so no iteration
    // starts there: the first iteration is the prefix's end.
    CHECK(t.boundary == truth.noise_end + length);
    CHECK(r.prefix_length == t.boundary);
    CHECK(t.before_boundary == 1);
    CHECK(t.occurrences == o.iterations - 1);
    CHECK(t.confirming == repeats);
    CHECK(t.confirmed_at + 1 == t.boundary + repeats * length);
  }
}

TEST_CASE("offline search of a stream without iterations") {
  Trace trace;
  generate_random(5000, 3, trace);
  const SearchResult r = search(trace.ops());
  CHECK(r.templates.empty());
  CHECK(r.prefix_length == trace.size());
  CHECK(r.iteration_length == 0);
  CHECK(r.matched_ops == 0);
}

// The generator produces what the matcher tests rely on.
#include <doctest/doctest.h>

#include <set>
#include <string>

#include "tracegen/tracegen.h"

using namespace rrto;
using namespace rrto::tracegen;

namespace {

struct Shape {
  size_t launches = 0;
  size_t distinct = 0;
  size_t htod = 0, dtoh = 0;
};

Shape shape_of(Model model) {
  Options o;
  o.workloads = {{model, 8}};
  o.iterations = 1;
  Trace trace;
  generate(o, trace);
  Shape s;
  std::set<const KernelDef*> kernels;
  for (const Op& op : trace.ops()) {
    if (op.kind == OpKind::KernelLaunch) {
      ++s.launches;
      kernels.insert(op.kernel);
    }
    s.htod += op.kind == OpKind::MemcpyHtoD;
    s.dtoh += op.kind == OpKind::MemcpyDtoH;
  }
  s.distinct = kernels.size();
  return s;
}

}  // namespace

TEST_CASE("model shapes match the real models") {
  const Shape resnet = shape_of(Model::ResNet50);
  CHECK(resnet.launches == doctest::Approx(310).epsilon(0.05));
  CHECK(resnet.distinct == 21);
  const Shape bert = shape_of(Model::BertBase);
  CHECK(bert.launches == doctest::Approx(700).epsilon(0.05));
  CHECK(bert.distinct == 22);
  CHECK(bert.htod == 3);
  const Shape detector = shape_of(Model::Detector);
  CHECK(detector.dtoh == 2);
}

TEST_CASE("BERT's twelve layers are structurally identical and differ in arguments") {
  Options o;
  o.workloads = {{Model::BertBase, 1}};
  o.iterations = 1;
  Trace trace;
  generate(o, trace);
  // Embeddings take 3 uploads and 6 launches; layers are 57 ops each.
  const size_t first_layer = 9, layer = 57;
  for (size_t i = 0; i < layer; ++i) {
    for (size_t l = 1; l < 12; ++l) {
      const Op& a = trace[first_layer + i];
      const Op& b = trace[first_layer + l * layer + i];
      REQUIRE(a.structural_sig == b.structural_sig);
    }
  }
  size_t differing = 0;
  for (size_t i = 0; i < layer; ++i) differing += trace[first_layer + i].full_sig != trace[first_layer + layer + i].full_sig;
  CHECK(differing > 10);
}

TEST_CASE("the same options give the same trace") {
  Options o;
  o.workloads = {{Model::Detector, 2}};
  o.noise.init_ops = 200;
  o.iterations = 2;
  Trace a, b;
  generate(o, a);
  generate(o, b);
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) REQUIRE(a[i].full_sig == b[i].full_sig);
}

TEST_CASE("truth marks the steady iterations") {
  Options o;
  o.workloads = {{Model::ResNet50, 8}};
  o.iterations = 4;
  o.noise.init_ops = 10;
  o.noise.first_iteration_differs = true;
  Trace trace;
  Truth truth;
  generate(o, trace, &truth);
  REQUIRE(truth.iterations.size() == 4);
  CHECK(truth.iterations[0].start == truth.noise_end);
  CHECK_FALSE(truth.iterations[0].regular);
  CHECK(truth.iterations[0].length == truth.regular_length[0] + 3);
  CHECK(truth.iterations[1].length == truth.regular_length[0]);
  CHECK(truth.iterations[3].start + truth.iterations[3].length == trace.size());
  CHECK(trace[truth.iterations[1].start].kind == OpKind::MemcpyHtoD);
}

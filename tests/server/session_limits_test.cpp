// Per-session bounds (SessionLimits): going past one fails that call for that
// client alone, and what it gives back makes room again.
#include <doctest/doctest.h>

#include "tests/server/harness.h"

using namespace rrto;
using namespace rrto::server;
using namespace rrto::server::test;

namespace {

HarnessOptions with_limits(SessionLimits limits) {
  HarnessOptions options;
  options.policy.session = limits;
  return options;
}

Outcome load_module(Harness& h, transport::PeerId peer, uint64_t module, size_t image_bytes) {
  std::vector<uint8_t> image(image_bytes, 0);
  Request r;
  r.add(proto::ModuleLoad{.module = module, .bulk_offset = r.add_bulk(image.data(), image.size()), .size = image.size()});
  return h.send(peer, r);
}

}  // namespace

TEST_CASE("module images past the session's bound are refused until one is unloaded") {
  Harness h(with_limits({.module_bytes = 10000}));
  const auto peer = h.open_session();
  const auto other = h.open_session();
  REQUIRE(load_module(h, peer, 1, 6000).status == CUDA_SUCCESS);
  const Outcome refused = load_module(h, peer, 2, 6000);
  CHECK(refused.status == CUDA_ERROR_OUT_OF_MEMORY);
  CHECK_FALSE(refused.closed);
  CHECK(load_module(h, other, 1, 6000).status == CUDA_SUCCESS);  // the bound is per session
  Request unload;
  unload.add(proto::ModuleUnload{.module = 1});
  REQUIRE(h.send(peer, unload).status == CUDA_SUCCESS);
  CHECK(load_module(h, peer, 2, 6000).status == CUDA_SUCCESS);
}

TEST_CASE("streams, events, modules and functions count together against the handle bound") {
  Harness h(with_limits({.handles = 3}));
  const auto peer = h.open_session();
  Request r;
  r.add(proto::StreamCreate{.stream = 0x10});
  r.add(proto::EventCreate{.event = 0x20});
  REQUIRE(h.send(peer, r).status == CUDA_SUCCESS);
  REQUIRE(load_module(h, peer, 1, 16).status == CUDA_SUCCESS);
  Request more;
  more.add(proto::EventCreate{.event = 0x21});
  CHECK(h.send(peer, more).status == CUDA_ERROR_OUT_OF_MEMORY);
  Request destroy;
  destroy.add(proto::EventDestroy{.event = 0x20});
  REQUIRE(h.send(peer, destroy).status == CUDA_SUCCESS);
  CHECK(h.send(peer, more).status == CUDA_SUCCESS);
}

TEST_CASE("templates past the session's byte bound are refused; dropping one makes room") {
  Harness h(with_limits({.template_bytes = 8192}));
  const auto peer = h.open_session();
  const uint64_t p = h.alloc(peer, 64);
  proto::BatchWriter calls;
  for (int i = 0; i < 20; ++i) calls.add(proto::Memset{.dst = p, .value = 1, .element_size = 1, .count = 64});
  auto register_template = [&](uint32_t id) {
    Request r;
    r.add(proto::TemplateRegister{.tmpl = id, .calls = calls.bytes()});
    return h.send(peer, r);
  };
  uint32_t id = 1;
  while (register_template(id).status == CUDA_SUCCESS) ++id;
  CHECK(id > 1);  // at least one fits
  CHECK(h.manager().session_count() == 1);  // refused, not closed
  Request drop;
  drop.add(proto::TemplateDrop{.tmpl = 1});
  REQUIRE(h.send(peer, drop).status == CUDA_SUCCESS);
  CHECK(register_template(id).status == CUDA_SUCCESS);
}

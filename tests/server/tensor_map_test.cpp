// Tensor maps: every argument's size is checked on the server before any
// driver sees it, and a host server, which has no driver to encode one, says
// so.
#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "tests/server/harness.h"
#include "tests/server/test_util.h"

using namespace rrto;
using namespace rrto::server;
using namespace rrto::server::test;

namespace {

template <typename T>
proto::Bytes bytes_of(const std::vector<T>& v) {
  return {reinterpret_cast<const uint8_t*>(v.data()), v.size() * sizeof(T)};
}

struct Arrays {
  std::vector<uint64_t> dims{64, 64}, strides{256};
  std::vector<uint32_t> box{16, 16}, element_strides{1, 1};
  std::vector<int32_t> corner;
};

proto::TensorMapEncode tiled(const Arrays& a, uint64_t address) {
  return {.kind = proto::kTensorMapTiled, .data_type = CU_TENSOR_MAP_DATA_TYPE_FLOAT32, .rank = 2,
          .global_address = address, .global_dim = bytes_of(a.dims), .global_strides = bytes_of(a.strides),
          .box_dim = bytes_of(a.box), .element_strides = bytes_of(a.element_strides)};
}

}  // namespace

TEST_CASE("tensor maps: arrays of the wrong size, a bad rank or kind, or memory not the session's are refused") {
  Harness h;
  const auto peer = h.open_session();
  const uint64_t p = h.alloc(peer, 64 * 256);
  Arrays a;
  SUBCASE("an array one element short") {
    a.dims.pop_back();
    CHECK(h.send_call(peer, tiled(a, p)).status == CUDA_ERROR_INVALID_VALUE);
  }
  SUBCASE("a box on an im2col map, or corners on a tiled one") {
    proto::TensorMapEncode call = tiled(a, p);
    call.kind = proto::kTensorMapIm2col;
    CHECK(h.send_call(peer, call).status == CUDA_ERROR_INVALID_VALUE);
    a.corner = {0};
    call = tiled(a, p);
    call.lower_corner = bytes_of(a.corner);
    CHECK(h.send_call(peer, call).status == CUDA_ERROR_INVALID_VALUE);
  }
  SUBCASE("rank 0, rank 6, an unknown kind") {
    proto::TensorMapEncode call = tiled(a, p);
    call.rank = 0;
    CHECK(h.send_call(peer, call).status == CUDA_ERROR_INVALID_VALUE);
    call.rank = 6;
    CHECK(h.send_call(peer, call).status == CUDA_ERROR_INVALID_VALUE);
    call = tiled(a, p);
    call.kind = 7;
    CHECK(h.send_call(peer, call).status == CUDA_ERROR_INVALID_VALUE);
  }
  SUBCASE("a tensor outside the session's memory") {
    CHECK(h.send_call(peer, tiled(a, p + (1ull << 30))).status == CUDA_ERROR_INVALID_VALUE);
  }
}

TEST_CASE("tensor maps: a host server has no driver to encode one, and says so") {
  Harness h;
  const auto peer = h.open_session();
  const uint64_t p = h.alloc(peer, 64 * 256);
  const Arrays a;
  Outcome o;
  const std::string log = logged([&] { o = h.send_call(peer, tiled(a, p)); });
  CHECK(o.status == CUDA_ERROR_NOT_SUPPORTED);
  CHECK(log.find("cuTensorMapEncodeTiled") != std::string::npos);
}

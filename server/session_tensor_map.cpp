// A session's tensor maps (cuTensorMapEncodeTiled, cuTensorMapEncodeIm2col):
// every array's size is checked against the rank, and the tensor's address
// against the session's memory, before the backend's driver encodes the map.
#include "server/session.h"

namespace rrto::server {
namespace {

// The ranks CUDA accepts: 1 to 5, at least 3 for im2col.
constexpr uint32_t kMaxTensorRank = 5;

}  // namespace

CUresult Session::tensor_map_encode(const proto::TensorMapEncode& c, std::array<uint8_t, proto::kTensorMapBytes>& map) {
  const bool tiled = c.kind == proto::kTensorMapTiled;
  if (!tiled && c.kind != proto::kTensorMapIm2col)
    return fail(CUDA_ERROR_INVALID_VALUE, "TensorMapEncode of kind {}: neither tiled nor im2col", c.kind);
  const char* what = tiled ? "cuTensorMapEncodeTiled" : "cuTensorMapEncodeIm2col";
  if (c.rank < (tiled ? 1u : 3u) || c.rank > kMaxTensorRank)
    return fail(CUDA_ERROR_INVALID_VALUE, "{} of rank {}", what, c.rank);
  const uint64_t corners = tiled ? 0 : (c.rank - 2) * sizeof(int32_t);
  if (c.global_dim.size() != c.rank * sizeof(uint64_t) || c.global_strides.size() != (c.rank - 1) * sizeof(uint64_t) ||
      c.box_dim.size() != (tiled ? c.rank * sizeof(uint32_t) : 0) ||
      c.element_strides.size() != c.rank * sizeof(uint32_t) || c.lower_corner.size() != corners ||
      c.upper_corner.size() != corners)
    return fail(CUDA_ERROR_INVALID_VALUE, "{} of rank {}: its arrays do not have the rank's sizes", what, c.rank);
  if (!allocations_.contains(c.global_address, 1))
    return fail(CUDA_ERROR_INVALID_VALUE, "{}: the tensor at {:#x} is not in this session's memory", what,
                c.global_address);
  if (CUresult r = view()->tensor_map_encode(c, map)) {
    if (r == CUDA_ERROR_NOT_SUPPORTED)
      return fail(r, "{}: tensor maps are encoded by a GPU's driver, and this device has none (host backend)", what);
    return fail(r, "{} failed", what);
  }
  return CUDA_SUCCESS;
}

}  // namespace rrto::server

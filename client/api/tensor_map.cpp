// Tensor maps (cuTensorMapEncodeTiled, cuTensorMapEncodeIm2col): the 128-byte
// CUtensorMap is the driver's own encoding, so the server's driver computes
// it from the arguments (a host server has none and refuses). The tensor's
// address is a device address of the session, the same on any server.
#include <cstring>

#include "client/api/api.h"

using namespace rrto::client;
namespace proto = rrto::proto;

namespace {

constexpr cuuint32_t kMaxRank = 5;

template <typename T>
proto::Bytes bytes_of(const T* values, size_t count) {
  return {reinterpret_cast<const uint8_t*>(values), count * sizeof(T)};
}

CUresult encode(Client& c, CUtensorMap* map, proto::TensorMapEncode& call) {
  auto state = c.lock();
  proto::TensorMapEncodeResult result;
  if (const CUresult r = state->remote.call(call, &result)) return r;
  if (result.map.size() != sizeof(CUtensorMap)) return CUDA_ERROR_UNKNOWN;
  std::memcpy(map, result.map.data(), sizeof(CUtensorMap));
  return CUDA_SUCCESS;
}

}  // namespace

CUresult api::cuTensorMapEncodeTiled(Client& c, CUtensorMap* map, CUtensorMapDataType type, cuuint32_t rank,
                                     void* address, const cuuint64_t* dims, const cuuint64_t* strides,
                                     const cuuint32_t* box, const cuuint32_t* element_strides,
                                     CUtensorMapInterleave interleave, CUtensorMapSwizzle swizzle,
                                     CUtensorMapL2promotion l2, CUtensorMapFloatOOBfill oob) {
  if (!map || rank == 0 || rank > kMaxRank || !dims || (rank > 1 && !strides) || !box || !element_strides)
    return CUDA_ERROR_INVALID_VALUE;
  proto::TensorMapEncode call{
      .kind = proto::kTensorMapTiled, .data_type = static_cast<uint32_t>(type), .rank = rank,
      .global_address = reinterpret_cast<uintptr_t>(address), .global_dim = bytes_of(dims, rank),
      .global_strides = bytes_of(strides, rank - 1), .box_dim = bytes_of(box, rank),
      .element_strides = bytes_of(element_strides, rank), .interleave = static_cast<uint32_t>(interleave),
      .swizzle = static_cast<uint32_t>(swizzle), .l2_promotion = static_cast<uint32_t>(l2),
      .oob_fill = static_cast<uint32_t>(oob)};
  return encode(c, map, call);
}

CUresult api::cuTensorMapEncodeIm2col(Client& c, CUtensorMap* map, CUtensorMapDataType type, cuuint32_t rank,
                                      void* address, const cuuint64_t* dims, const cuuint64_t* strides,
                                      const int* lower_corner, const int* upper_corner, cuuint32_t channels_per_pixel,
                                      cuuint32_t pixels_per_column, const cuuint32_t* element_strides,
                                      CUtensorMapInterleave interleave, CUtensorMapSwizzle swizzle,
                                      CUtensorMapL2promotion l2, CUtensorMapFloatOOBfill oob) {
  if (!map || rank < 3 || rank > kMaxRank || !dims || !strides || !lower_corner || !upper_corner || !element_strides)
    return CUDA_ERROR_INVALID_VALUE;
  proto::TensorMapEncode call{
      .kind = proto::kTensorMapIm2col, .data_type = static_cast<uint32_t>(type), .rank = rank,
      .global_address = reinterpret_cast<uintptr_t>(address), .global_dim = bytes_of(dims, rank),
      .global_strides = bytes_of(strides, rank - 1), .element_strides = bytes_of(element_strides, rank),
      .lower_corner = bytes_of(lower_corner, rank - 2), .upper_corner = bytes_of(upper_corner, rank - 2),
      .channels_per_pixel = channels_per_pixel, .pixels_per_column = pixels_per_column,
      .interleave = static_cast<uint32_t>(interleave), .swizzle = static_cast<uint32_t>(swizzle),
      .l2_promotion = static_cast<uint32_t>(l2), .oob_fill = static_cast<uint32_t>(oob)};
  return encode(c, map, call);
}

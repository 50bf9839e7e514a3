// A session's 2D copies and memsets: every pitch, width and height from the
// wire is checked, overflow-safe, against the session's own allocations
// before it reaches the backend, as for the 1D copies (session.cpp).
#include "server/session.h"

namespace rrto::server {

CUresult Session::check_rows(std::string_view what, uint64_t base, uint64_t pitch, uint64_t width, uint64_t height) {
  const uint64_t last_row = height - 1;  // height > 0 here
  if (last_row != 0 && pitch < width)
    return fail(CUDA_ERROR_INVALID_VALUE, "{}: pitch {} is less than the width {}", what, pitch, width);
  if (last_row != 0 && pitch > (UINT64_MAX - width) / last_row)
    return fail(CUDA_ERROR_INVALID_VALUE, "{}: {} rows {} bytes apart overflow", what, height, pitch);
  return check_range(what, base, last_row * pitch + width);
}

CUresult Session::memcpy_2d_htod(const proto::Memcpy2DHtoD& c, std::span<const uint8_t> rows) {
  if (c.width == 0 || c.height == 0) return CUDA_SUCCESS;
  if (rows.size() != proto::packed_bytes(c.width, c.height))
    return fail(CUDA_ERROR_INVALID_VALUE, "Memcpy2DHtoD of {} rows of {} bytes with {} bytes of payload", c.height,
                c.width, rows.size());
  if (CUresult r = check_rows("Memcpy2DHtoD destination", c.dst, c.dst_pitch, c.width, c.height)) return r;
  StreamHandle s;
  if (CUresult r = resolve_stream(c.stream, s)) return r;
  return view()->copy_htod_2d(c.dst, c.dst_pitch, rows.data(), c.width, c.height, s);
}

CUresult Session::memcpy_2d_dtoh(const proto::Memcpy2DDtoH& c, std::span<const uint8_t>& bytes) {
  bytes = {};
  if (c.width == 0 || c.height == 0) return CUDA_SUCCESS;
  if (CUresult r = check_rows("Memcpy2DDtoH source", c.src, c.src_pitch, c.width, c.height)) return r;
  StreamHandle s;
  if (CUresult r = resolve_stream(c.stream, s)) return r;
  const uint8_t* data = nullptr;
  if (CUresult r = view()->copy_dtoh_2d_for_reply(c.src, c.src_pitch, c.width, c.height, s, data)) return r;
  bytes = {data, c.width * c.height};  // within one allocation, so no overflow
  return CUDA_SUCCESS;
}

CUresult Session::memcpy_2d_dtod(const proto::Memcpy2DDtoD& c) {
  if (c.width == 0 || c.height == 0) return CUDA_SUCCESS;
  if (CUresult r = check_rows("Memcpy2DDtoD destination", c.dst, c.dst_pitch, c.width, c.height)) return r;
  if (CUresult r = check_rows("Memcpy2DDtoD source", c.src, c.src_pitch, c.width, c.height)) return r;
  StreamHandle s;
  if (CUresult r = resolve_stream(c.stream, s)) return r;
  return view()->copy_dtod_2d(c.dst, c.dst_pitch, c.src, c.src_pitch, c.width, c.height, s);
}

CUresult Session::memset_2d(const proto::Memset2D& c) {
  const uint32_t size = c.element_size;
  if (size != 1 && size != 2 && size != 4)
    return fail(CUDA_ERROR_INVALID_VALUE, "Memset2D element size {} (must be 1, 2 or 4)", size);
  if (c.width == 0 || c.height == 0) return CUDA_SUCCESS;
  if (c.width > UINT64_MAX / size) return fail(CUDA_ERROR_INVALID_VALUE, "Memset2D width {} overflows", c.width);
  if (c.dst % size != 0 || c.pitch % size != 0)
    return fail(CUDA_ERROR_INVALID_VALUE, "Memset2D{} destination {:#x} or pitch {} is misaligned", size * 8, c.dst,
                c.pitch);
  if (CUresult r = check_rows("Memset2D destination", c.dst, c.pitch, c.width * size, c.height)) return r;
  StreamHandle s;
  if (CUresult r = resolve_stream(c.stream, s)) return r;
  return view()->memset_2d(c.dst, c.pitch, c.value, size, c.width, c.height, s);
}

}  // namespace rrto::server

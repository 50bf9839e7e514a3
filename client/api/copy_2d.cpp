// Pitched memory, 2D copies and 2D memsets. Each travels as one call: an
// upload's rows go packed in the bulk and the server scatters them into the
// pitched rows; a copy back's rows come back packed and are scattered here;
// device-to-device copies and memsets carry only their geometry. Host-to-host
// copies never leave the process.
#include <algorithm>
#include <cstring>

#include "client/api/api.h"

using namespace rrto::client;
namespace proto = rrto::proto;

namespace {

// Real drivers align pitched rows to at least this (and to the device's
// texture pitch alignment where that is larger).
constexpr uint64_t kPitchAlignment = 512;

// One side of a 2D copy, resolved: where its first row starts.
struct Side {
  bool on_device = false;
  uint64_t address = 0;  // a device address, or the host pointer
  uint64_t pitch = 0;
};

// The first row of a side as CUDA_MEMCPY2D names it (base, X in bytes, Y in
// rows); false for arrays, which are not offered, or on overflow.
bool resolve_side(const ClientState& state, CUmemorytype type, const void* host, CUdeviceptr device, size_t x,
                  size_t y, size_t pitch, Side& side) {
  uint64_t base = 0;
  switch (type) {
    case CU_MEMORYTYPE_HOST: base = reinterpret_cast<uintptr_t>(host); break;
    case CU_MEMORYTYPE_DEVICE: base = device; side.on_device = true; break;
    case CU_MEMORYTYPE_UNIFIED: base = device; side.on_device = state.on_device(device); break;
    default: return false;
  }
  if (y != 0 && pitch > (UINT64_MAX - x) / y) return false;
  const uint64_t offset = y * pitch + x;
  if (offset > UINT64_MAX - base) return false;
  side.address = base + offset;
  side.pitch = pitch;
  return true;
}

// Whether `height` (> 0) rows of `width` bytes, `pitch` apart, are a valid
// side: rows that do not overlap, device rows inside one allocation.
bool valid_rows(const ClientState& state, const Side& side, uint64_t width, uint64_t height) {
  if (side.address == 0) return false;
  const uint64_t last_row = height - 1;
  if (last_row == 0) return !side.on_device || state.on_device(side.address, width);
  if (side.pitch < width || side.pitch > (UINT64_MAX - width) / last_row) return false;
  return !side.on_device || state.on_device(side.address, last_row * side.pitch + width);
}

void copy_rows(uint8_t* dst, uint64_t dst_pitch, const uint8_t* src, uint64_t src_pitch, uint64_t width,
               uint64_t height) {
  for (uint64_t y = 0; y < height; ++y) std::memmove(dst + y * dst_pitch, src + y * src_pitch, width);
}

CUresult upload_rows(ClientState& state, const Side& dst, const Side& src, uint64_t width, uint64_t height,
                     uint64_t stream, bool async) {
  const auto* rows = reinterpret_cast<const uint8_t*>(src.address);
  proto::Memcpy2DHtoD call{.dst = dst.address, .dst_pitch = dst.pitch, .width = width, .height = height, .stream = stream};
  if (CUresult r = CUDA_SUCCESS; refused_by_capture(state, call, async, r)) return r;
  if (state.on_operator(call, rows, src.pitch, async)) return CUDA_SUCCESS;
  const uint64_t size = width * height;
  const bool send_now = state.remote.mode() == Mode::Rpc || size >= kZeroCopyThreshold;
  if (src.pitch == width || height == 1) {
    call.bulk_offset = send_now ? state.remote.add_bulk_ref(rows, size) : state.remote.add_bulk_copy(rows, size);
  } else {
    // The queue's own copy, row after row: the rows travel packed.
    call.bulk_offset = state.remote.add_bulk_copy(rows, width);
    for (uint64_t y = 1; y < height; ++y) state.remote.add_bulk_copy(rows + y * src.pitch, width);
  }
  note_stream_work(state, stream);
  CUresult r = state.remote.defer(call);
  if (r == CUDA_SUCCESS && send_now) r = state.remote.flush();
  return r;
}

CUresult download_rows(ClientState& state, const Side& dst, const Side& src, uint64_t width, uint64_t height,
                       uint64_t stream, bool async) {
  auto* rows = reinterpret_cast<uint8_t*>(dst.address);
  proto::Memcpy2DDtoH call{.src = src.address, .src_pitch = src.pitch, .width = width, .height = height, .stream = stream};
  if (CUresult r = CUDA_SUCCESS; refused_by_capture(state, call, async, r)) return r;
  if (state.on_operator(call, rows, dst.pitch, async)) {
    copy_rows(rows, dst.pitch, state.replayer.served_output(), width, width, height);
    return CUDA_SUCCESS;
  }
  const uint64_t size = width * height;
  const bool packed = dst.pitch == width || height == 1;
  if (!packed && state.copy_back_rows.size() < size) state.copy_back_rows.resize(size);
  uint8_t* landing = packed ? rows : state.copy_back_rows.data();
  const CUresult r = state.remote.call_for_bulk(call, landing, size);
  if (r != CUDA_SUCCESS) return r;
  if (state.remote.last_bulk_received() != size) return CUDA_ERROR_UNKNOWN;
  if (!packed) copy_rows(rows, dst.pitch, landing, width, width, height);
  state.unsynced_streams.erase(stream);  // the server waited for the stream before copying
  return CUDA_SUCCESS;
}

CUresult copy_2d(Client& c, const CUDA_MEMCPY2D* copy, uint64_t stream, bool async) {
  if (!copy) return CUDA_ERROR_INVALID_VALUE;
  if (!has_current_context()) return CUDA_ERROR_INVALID_CONTEXT;
  const uint64_t width = copy->WidthInBytes, height = copy->Height;
  if (width == 0 || height == 0) return CUDA_SUCCESS;
  auto state = c.lock();
  Side src, dst;
  if (!resolve_side(*state, copy->srcMemoryType, copy->srcHost, copy->srcDevice, copy->srcXInBytes, copy->srcY,
                    copy->srcPitch, src) ||
      !resolve_side(*state, copy->dstMemoryType, copy->dstHost, copy->dstDevice, copy->dstXInBytes, copy->dstY,
                    copy->dstPitch, dst))
    return CUDA_ERROR_INVALID_VALUE;
  if (!valid_rows(*state, src, width, height) || !valid_rows(*state, dst, width, height))
    return CUDA_ERROR_INVALID_VALUE;
  if (!src.on_device && !dst.on_device) {
    copy_rows(reinterpret_cast<uint8_t*>(dst.address), dst.pitch, reinterpret_cast<const uint8_t*>(src.address),
              src.pitch, width, height);
    return CUDA_SUCCESS;
  }
  if (!src.on_device) return upload_rows(*state, dst, src, width, height, stream, async);
  if (!dst.on_device) return download_rows(*state, dst, src, width, height, stream, async);
  proto::Memcpy2DDtoD call{.dst = dst.address, .dst_pitch = dst.pitch, .src = src.address, .src_pitch = src.pitch,
                           .width = width, .height = height, .stream = stream};
  if (CUresult r = CUDA_SUCCESS; refused_by_capture(*state, call, async, r)) return r;
  if (state->on_operator(call, async)) return CUDA_SUCCESS;
  note_stream_work(*state, stream);
  return state->remote.defer(call);
}

// `width` elements of `element_size` bytes in each of `height` rows.
CUresult memset_2d(Client& c, CUdeviceptr dst, size_t pitch, uint32_t value, uint32_t element_size, size_t width,
                   size_t height, uint64_t stream, bool async) {
  if (!has_current_context()) return CUDA_ERROR_INVALID_CONTEXT;
  if (width == 0 || height == 0) return CUDA_SUCCESS;
  if (dst % element_size || pitch % element_size || width > UINT64_MAX / element_size) return CUDA_ERROR_INVALID_VALUE;
  auto state = c.lock();
  if (!valid_rows(*state, Side{.on_device = true, .address = dst, .pitch = pitch}, width * element_size, height))
    return CUDA_ERROR_INVALID_VALUE;
  proto::Memset2D call{.dst = dst, .pitch = pitch, .value = value, .element_size = element_size, .width = width,
                       .height = height, .stream = stream};
  if (CUresult r = CUDA_SUCCESS; refused_by_capture(*state, call, async, r)) return r;
  if (state->on_operator(call, async)) return CUDA_SUCCESS;
  note_stream_work(*state, stream);
  return state->remote.defer(call);
}

}  // namespace

CUresult api::cuMemAllocPitch_v2(Client& c, CUdeviceptr* dptr, size_t* pitch, size_t width, size_t height,
                                 unsigned int element_size) {
  if (!dptr || !pitch || width == 0 || height == 0) return CUDA_ERROR_INVALID_VALUE;
  if (element_size != 4 && element_size != 8 && element_size != 16) return CUDA_ERROR_INVALID_VALUE;
  const auto& attributes = c.device().attributes;
  uint64_t alignment = kPitchAlignment;
  if (attributes.size() > CU_DEVICE_ATTRIBUTE_TEXTURE_PITCH_ALIGNMENT)
    alignment = std::max<uint64_t>(alignment, attributes[CU_DEVICE_ATTRIBUTE_TEXTURE_PITCH_ALIGNMENT]);
  if (width > SIZE_MAX - (alignment - 1)) return CUDA_ERROR_INVALID_VALUE;
  const size_t rounded = (width + alignment - 1) / alignment * alignment;
  if (rounded > SIZE_MAX / height) return CUDA_ERROR_OUT_OF_MEMORY;
  const CUresult r = alloc_device(c, dptr, rounded * height);
  if (r == CUDA_SUCCESS) *pitch = rounded;
  return r;
}

CUresult api::cuMemcpy2D_v2(Client& c, bool per_thread, const CUDA_MEMCPY2D* copy) {
  return copy_2d(c, copy, stream_id(nullptr, per_thread), false);
}

// Any alignment is fine here: rows are copied as bytes.
CUresult api::cuMemcpy2DUnaligned_v2(Client& c, bool per_thread, const CUDA_MEMCPY2D* copy) {
  return copy_2d(c, copy, stream_id(nullptr, per_thread), false);
}

CUresult api::cuMemcpy2DAsync_v2(Client& c, bool per_thread, const CUDA_MEMCPY2D* copy, CUstream s) {
  return copy_2d(c, copy, stream_id(s, per_thread), true);
}

CUresult api::cuMemsetD2D8_v2(Client& c, bool per_thread, CUdeviceptr dst, size_t pitch, unsigned char value,
                              size_t width, size_t height) {
  return memset_2d(c, dst, pitch, value, 1, width, height, stream_id(nullptr, per_thread), false);
}

CUresult api::cuMemsetD2D16_v2(Client& c, bool per_thread, CUdeviceptr dst, size_t pitch, unsigned short value,
                               size_t width, size_t height) {
  return memset_2d(c, dst, pitch, value, 2, width, height, stream_id(nullptr, per_thread), false);
}

CUresult api::cuMemsetD2D32_v2(Client& c, bool per_thread, CUdeviceptr dst, size_t pitch, unsigned int value,
                               size_t width, size_t height) {
  return memset_2d(c, dst, pitch, value, 4, width, height, stream_id(nullptr, per_thread), false);
}

CUresult api::cuMemsetD2D8Async(Client& c, bool per_thread, CUdeviceptr dst, size_t pitch, unsigned char value,
                                size_t width, size_t height, CUstream s) {
  return memset_2d(c, dst, pitch, value, 1, width, height, stream_id(s, per_thread), true);
}

CUresult api::cuMemsetD2D16Async(Client& c, bool per_thread, CUdeviceptr dst, size_t pitch, unsigned short value,
                                 size_t width, size_t height, CUstream s) {
  return memset_2d(c, dst, pitch, value, 2, width, height, stream_id(s, per_thread), true);
}

CUresult api::cuMemsetD2D32Async(Client& c, bool per_thread, CUdeviceptr dst, size_t pitch, unsigned int value,
                                 size_t width, size_t height, CUstream s) {
  return memset_2d(c, dst, pitch, value, 4, width, height, stream_id(s, per_thread), true);
}

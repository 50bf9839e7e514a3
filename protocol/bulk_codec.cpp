#include "protocol/bulk_codec.h"

#define ZSTD_STATIC_LINKING_ONLY  // ZSTD_d_windowLogMax
#include <zstd.h>

namespace rrto::proto {
namespace {

// Fast: on a link where compression pays, a level that costs a millisecond
// or two per megabyte gets most of the ratio.
constexpr int kLevel = 1;
// Frames never need a window beyond the bulk a batch may carry.
constexpr int kWindowLogMax = 30;

}  // namespace

BulkCompressor::BulkCompressor() : ctx_(ZSTD_createCCtx()) {
  ZSTD_CCtx_setParameter(ctx_, ZSTD_c_compressionLevel, kLevel);
}

BulkCompressor::~BulkCompressor() { ZSTD_freeCCtx(ctx_); }

std::span<const uint8_t> BulkCompressor::compress(std::span<const std::span<const uint8_t>> pieces,
                                                  uint64_t raw_size) {
  if (!ctx_ || pieces.empty()) return {};
  const size_t bound = ZSTD_compressBound(raw_size);
  if (frame_.size() < bound) frame_.resize(bound);
  ZSTD_CCtx_reset(ctx_, ZSTD_reset_session_only);
  // Declared up front: the frame header carries the content size, which
  // the server checks against the batch's.
  if (ZSTD_isError(ZSTD_CCtx_setPledgedSrcSize(ctx_, raw_size))) return {};
  ZSTD_outBuffer dst{frame_.data(), bound, 0};
  for (size_t i = 0; i < pieces.size(); ++i) {
    ZSTD_inBuffer src{pieces[i].data(), pieces[i].size(), 0};
    const ZSTD_EndDirective mode = i + 1 == pieces.size() ? ZSTD_e_end : ZSTD_e_continue;
    size_t left = 0;
    do {
      left = ZSTD_compressStream2(ctx_, &dst, &src, mode);
      if (ZSTD_isError(left)) return {};
    } while (mode == ZSTD_e_end ? left != 0 : src.pos < src.size);
  }
  return {frame_.data(), dst.pos};
}

BulkDecompressor::BulkDecompressor() : ctx_(ZSTD_createDCtx()) {
  ZSTD_DCtx_setParameter(ctx_, ZSTD_d_windowLogMax, kWindowLogMax);
}

BulkDecompressor::~BulkDecompressor() { ZSTD_freeDCtx(ctx_); }

Status BulkDecompressor::decompress(std::span<const uint8_t> frame, std::span<uint8_t> out) {
  if (!ctx_) return Status::InternalError;
  if (ZSTD_findFrameCompressedSize(frame.data(), frame.size()) != frame.size() ||
      ZSTD_getFrameContentSize(frame.data(), frame.size()) != out.size())
    return Status::ProtocolError;
  const size_t n = ZSTD_decompressDCtx(ctx_, out.data(), out.size(), frame.data(), frame.size());
  return !ZSTD_isError(n) && n == out.size() ? Status::Ok : Status::ProtocolError;
}

}  // namespace rrto::proto

// The codec of a compressed bulk (CompressedBulk): zstd frames.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/status.h"

struct ZSTD_CCtx_s;
struct ZSTD_DCtx_s;

namespace rrto::proto {

class BulkCompressor {
 public:
  BulkCompressor();
  ~BulkCompressor();
  BulkCompressor(const BulkCompressor&) = delete;
  BulkCompressor& operator=(const BulkCompressor&) = delete;

  // The pieces, in order, as one frame, valid until the next call; empty if
  // zstd failed.
  std::span<const uint8_t> compress(std::span<const std::span<const uint8_t>> pieces, uint64_t raw_size);

 private:
  ZSTD_CCtx_s* ctx_;
  std::vector<uint8_t> frame_;  // grows to the largest bound needed, never shrinks
};

class BulkDecompressor {
 public:
  BulkDecompressor();
  ~BulkDecompressor();
  BulkDecompressor(const BulkDecompressor&) = delete;
  BulkDecompressor& operator=(const BulkDecompressor&) = delete;

  // `frame` into exactly `out` (its size is the raw size the batch
  // declared): ProtocolError for anything else (not one zstd frame of that
  // content size, corrupt, larger or smaller).
  Status decompress(std::span<const uint8_t> frame, std::span<uint8_t> out);

 private:
  ZSTD_DCtx_s* ctx_;
};

}  // namespace rrto::proto

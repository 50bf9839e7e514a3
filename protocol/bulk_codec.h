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

  // The pieces, in order, as one frame in `out` (its capacity is kept from
  // one call to the next). False if zstd failed.
  bool compress(std::span<const std::span<const uint8_t>> pieces, uint64_t raw_size, std::vector<uint8_t>& out);

 private:
  ZSTD_CCtx_s* ctx_;
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

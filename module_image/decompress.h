// Decompression of fatbin entries. Each decoder produces exactly `size`
// bytes into `out` or fails, never reads outside `in`, and refuses sizes the
// input cannot produce before allocating them.
#pragma once

#include <cstdint>
#include <vector>

#include "common/status.h"
#include "module_image/bytes.h"

namespace rrto {

// One zstd frame (fatbin flag 0x8000: CUDA 13's default for PTX entries).
Status zstd_decompress(Bytes in, uint64_t size, std::vector<uint8_t>& out);

// A raw LZ4 block without a frame (fatbin flag 0x2000: `--compress-mode=speed`
// and older toolkits' default).
Status lz4_block_decompress(Bytes in, uint64_t size, std::vector<uint8_t>& out);

}  // namespace rrto

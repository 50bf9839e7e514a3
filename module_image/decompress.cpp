#include "module_image/decompress.h"

#include <zstd.h>

#include <cstring>

#include "common/log.h"

namespace rrto {

Status zstd_decompress(Bytes in, uint64_t size, std::vector<uint8_t>& out) {
  const unsigned long long frame = ZSTD_getFrameContentSize(in.data(), in.size());
  if (frame == ZSTD_CONTENTSIZE_ERROR || (frame != ZSTD_CONTENTSIZE_UNKNOWN && frame != size)) {
    return Status::InvalidArgument;
  }
  out.resize(size);
  const size_t n = ZSTD_decompress(out.data(), out.size(), in.data(), in.size());
  if (ZSTD_isError(n)) {
    RRTO_DEBUG("module_image", "zstd: {}", ZSTD_getErrorName(n));
    return Status::InvalidArgument;
  }
  return n == size ? Status::Ok : Status::InvalidArgument;
}

Status lz4_block_decompress(Bytes in, uint64_t size, std::vector<uint8_t>& out) {
  // Each input byte yields at most 255 output bytes (length continuation).
  if (size > in.size() * uint64_t{255} + 16) return Status::InvalidArgument;
  out.resize(size);
  size_t ip = 0, op = 0;
  // A length nibble of 15 continues in the following bytes, each adding up to 255.
  auto extend = [&](size_t& len) {
    if (len != 15) return true;
    uint8_t b;
    do {
      if (ip >= in.size()) return false;
      b = in[ip++];
      len += b;
      if (len > out.size()) return false;
    } while (b == 255);
    return true;
  };
  while (ip < in.size()) {
    const uint8_t token = in[ip++];
    size_t lit = token >> 4;
    if (!extend(lit)) return Status::InvalidArgument;
    if (lit > in.size() - ip || lit > out.size() - op) return Status::InvalidArgument;
    if (lit) std::memcpy(out.data() + op, in.data() + ip, lit);
    ip += lit;
    op += lit;
    if (ip == in.size()) break;  // the last sequence has literals only
    if (in.size() - ip < 2) return Status::InvalidArgument;
    const size_t dist = in[ip] | (size_t{in[ip + 1]} << 8);
    ip += 2;
    if (dist == 0 || dist > op) return Status::InvalidArgument;
    size_t len = token & 15;
    if (!extend(len)) return Status::InvalidArgument;
    len += 4;
    if (len > out.size() - op) return Status::InvalidArgument;
    // Byte by byte: source and destination overlap when dist < len.
    for (size_t i = 0; i < len; ++i, ++op) out[op] = out[op - dist];
  }
  return op == out.size() ? Status::Ok : Status::InvalidArgument;
}

}  // namespace rrto

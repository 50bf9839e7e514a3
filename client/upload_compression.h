// Whether a batch's bulk (inputs, weights) goes compressed, and the
// compressing. Compression pays on a thin link and costs on a fat one: per
// batch, the time it saves on the link (the bytes it removes / the upload
// speed) must exceed what compressing here and decompressing on the server
// take, by the ratio and speed measured on this program's recent payloads.
// The upload speed is configured (compression.uplink_mbit) or the emulated
// link's; unknown, `auto` never compresses.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "protocol/bulk_codec.h"
#include "transport/transport.h"

namespace rrto::client {

class UploadCompression {
 public:
  enum class Mode { Auto, Off, Always };
  // Bulks smaller than this go as they are.
  static constexpr uint64_t kMinBytes = 32 * 1024;

  void configure(Mode mode, uint64_t uplink_bits_per_second) {
    mode_ = mode;
    uplink_bytes_per_second_ = uplink_bits_per_second / 8.0;
  }

  // Whether a bulk of `raw_bytes` should go compressed now.
  bool worth_it(uint64_t raw_bytes);

  // The pieces as one zstd frame, valid until the next call; empty (send
  // them as they are) when compressing failed or saved under an eighth.
  // Learns the ratio and speed either way.
  std::span<const uint8_t> compress(std::span<const transport::Segment> pieces, uint64_t raw_bytes);

  // `"compression":{...}` for the stats line.
  std::string stats_json() const;

 private:
  Mode mode_ = Mode::Auto;
  double uplink_bytes_per_second_ = 0;
  // Recent payloads: compressed / raw size, and compression speed (bytes/s);
  // guesses until the first payload is measured.
  double ratio_ = 0.5, compress_bytes_per_second_ = 300e6;
  bool measured_ = false;
  uint64_t declined_ = 0;  // large bulks sent as they are since the last try
  uint64_t batches_ = 0, bytes_before_ = 0, bytes_after_ = 0;
  double seconds_ = 0;
  proto::BulkCompressor compressor_;
  std::vector<std::span<const uint8_t>> pieces_;
};

}  // namespace rrto::client

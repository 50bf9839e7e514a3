#include "client/upload_compression.h"

#include <chrono>

#include <fmt/format.h>

namespace rrto::client {
namespace {

// zstd decompresses at well over a gigabyte a second; the server's time
// counts all the same.
constexpr double kDecompressBytesPerSecond = 1e9;
// Learned values move this far towards each new payload's.
constexpr double kLearn = 0.25;
// After this many large bulks sent as they are, one is compressed anyway, so
// that the ratio follows payloads that have become more compressible.
constexpr uint64_t kRetryAfter = 32;

}  // namespace

bool UploadCompression::worth_it(uint64_t raw_bytes) {
  if (mode_ == Mode::Off || raw_bytes < kMinBytes) return false;
  if (mode_ == Mode::Always) return true;
  if (uplink_bytes_per_second_ <= 0) return false;
  const double raw = static_cast<double>(raw_bytes);
  const double saved = raw * (1 - ratio_) / uplink_bytes_per_second_;
  const double cost = raw / compress_bytes_per_second_ + raw / kDecompressBytesPerSecond;
  if (saved > cost) return true;
  return ++declined_ % kRetryAfter == 0;
}

std::span<const uint8_t> UploadCompression::compress(std::span<const transport::Segment> pieces,
                                                     uint64_t raw_bytes) {
  pieces_.clear();
  for (const transport::Segment& s : pieces) pieces_.push_back({static_cast<const uint8_t*>(s.data), s.length});
  const auto start = std::chrono::steady_clock::now();
  const std::span<const uint8_t> out = compressor_.compress(pieces_, raw_bytes);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (out.empty()) return {};
  // The first payload measured replaces the guesses; later ones move them.
  const double learn = measured_ ? kLearn : 1.0;
  ratio_ += learn * (static_cast<double>(out.size()) / raw_bytes - ratio_);
  if (seconds > 0) compress_bytes_per_second_ += learn * (raw_bytes / seconds - compress_bytes_per_second_);
  measured_ = true;
  declined_ = 0;
  if (out.size() > raw_bytes - raw_bytes / 8) return {};
  ++batches_;
  bytes_before_ += raw_bytes;
  bytes_after_ += out.size();
  seconds_ += seconds;
  return out;
}

std::string UploadCompression::stats_json() const {
  return fmt::format(R"("compression":{{"batches":{},"bytes_before":{},"bytes_after":{},"compress_ms":{:.3f}}})",
                     batches_, bytes_before_, bytes_after_, seconds_ * 1e3);
}

}  // namespace rrto::client

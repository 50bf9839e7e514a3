// When a batch's bulk goes compressed, and a round trip of the bytes.
#include <doctest/doctest.h>

#include <random>
#include <vector>

#include "client/upload_compression.h"

namespace rrto::client {
namespace {

std::vector<uint8_t> compressible(size_t size) {
  std::vector<uint8_t> v(size);
  for (size_t i = 0; i < size; ++i) v[i] = static_cast<uint8_t>((i / 32) % 7);
  return v;
}

std::vector<uint8_t> noise(size_t size) {
  std::mt19937_64 random(42);
  std::vector<uint8_t> v(size);
  for (uint8_t& b : v) b = static_cast<uint8_t>(random());
  return v;
}

constexpr uint64_t k5G = 50'000'000;          // bits per second
constexpr uint64_t kLoopback = 100'000'000'000;

}  // namespace

TEST_CASE("off never compresses, always does for bulks worth it, auto needs to know the link") {
  UploadCompression c;
  c.configure(UploadCompression::Mode::Off, k5G);
  CHECK_FALSE(c.worth_it(1 << 20));
  c.configure(UploadCompression::Mode::Always, 0);
  CHECK(c.worth_it(1 << 20));
  CHECK_FALSE(c.worth_it(UploadCompression::kMinBytes - 1));
  c.configure(UploadCompression::Mode::Auto, 0);
  CHECK_FALSE(c.worth_it(1 << 20));
}

TEST_CASE("auto compresses on a thin link, not on a fat one") {
  UploadCompression thin, fat;
  thin.configure(UploadCompression::Mode::Auto, k5G);
  fat.configure(UploadCompression::Mode::Auto, kLoopback);
  const auto data = compressible(600'000);
  const transport::Segment piece{data.data(), data.size()};
  REQUIRE(thin.worth_it(data.size()));
  const auto out = thin.compress({&piece, 1}, data.size());
  REQUIRE(!out.empty());
  CHECK(out.size() < data.size() / 4);
  CHECK(thin.worth_it(data.size()));
  // A fat link: only one try in a while, to follow the payloads.
  int tries = 0;
  for (int i = 0; i < 64; ++i) tries += fat.worth_it(data.size());
  CHECK(tries == 2);
}

TEST_CASE("bytes that do not compress go as they are, and auto learns to stop trying") {
  UploadCompression c;
  c.configure(UploadCompression::Mode::Auto, k5G);
  const auto data = noise(600'000);
  const transport::Segment pieces[] = {{data.data(), 200'000}, {data.data() + 200'000, 400'000}};
  for (int i = 0; i < 4; ++i) {
    if (c.worth_it(data.size())) CHECK(c.compress(pieces, data.size()).empty());
  }
  CHECK_FALSE(c.worth_it(data.size()));
  CHECK(c.stats_json().find("\"batches\":0") != std::string::npos);
}

TEST_CASE("pieces compress into one frame of their bytes in order") {
  UploadCompression c;
  c.configure(UploadCompression::Mode::Always, 0);
  const auto a = compressible(100'000), b = compressible(50'000);
  const transport::Segment pieces[] = {{a.data(), a.size()}, {b.data(), b.size()}};
  const auto frame = c.compress(pieces, a.size() + b.size());
  REQUIRE(!frame.empty());
  std::vector<uint8_t> back(a.size() + b.size());
  proto::BulkDecompressor d;
  REQUIRE(d.decompress(frame, back) == Status::Ok);
  CHECK(std::equal(a.begin(), a.end(), back.begin()));
  CHECK(std::equal(b.begin(), b.end(), back.begin() + a.size()));
  CHECK(c.stats_json().find("\"batches\":1,\"bytes_before\":150000") != std::string::npos);
}

}  // namespace rrto::client

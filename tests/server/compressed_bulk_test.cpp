// Batches whose bulk comes compressed (CompressedBulk): decompressed where the
// calls expect their bytes, and every way such a batch can be malformed.
#include <doctest/doctest.h>

#include <algorithm>
#include <span>

#include "protocol/bulk_codec.h"
#include "tests/server/harness.h"
#include "tests/server/test_util.h"

using namespace rrto;
using namespace rrto::server;
using namespace rrto::server::test;

namespace {

std::vector<uint8_t> zstd_frame(std::span<const uint8_t> raw) {
  proto::BulkCompressor compressor;
  const std::span<const uint8_t> pieces[] = {raw};
  const std::span<const uint8_t> frame = compressor.compress(pieces, raw.size());
  REQUIRE(!frame.empty());
  return {frame.begin(), frame.end()};
}

// A request of `calls` whose bulk is `raw`, sent compressed (CompressedBulk
// first, declaring `declared` bytes).
Request compressed(Request calls, std::span<const uint8_t> raw, uint64_t declared) {
  Request r;
  r.add(proto::CompressedBulk{.raw_size = declared});
  r.calls.append(calls.calls);
  r.bulk = zstd_frame(raw);
  return r;
}

// Compressible bytes: runs of a few values.
std::vector<uint8_t> compressible(size_t size) {
  std::vector<uint8_t> v(size);
  for (size_t i = 0; i < size; ++i) v[i] = static_cast<uint8_t>((i / 64) % 5);
  return v;
}

}  // namespace

TEST_CASE("a compressed bulk lands decompressed: one copy straight into device memory, several through a buffer") {
  Harness h;
  const auto peer = h.open_session();
  const uint64_t p = h.alloc(peer, 1 << 16);
  const auto data = compressible(1 << 16);

  Request one;
  one.add(proto::MemcpyHtoD{.dst = p, .size = data.size(), .bulk_offset = 0});
  Request r = compressed(one, data, data.size());
  CHECK(r.bulk.size() < data.size() / 4);
  const Outcome up = h.send(peer, r);
  REQUIRE(up.status == CUDA_SUCCESS);
  CHECK(h.read(peer, p, data.size()).bulk == data);

  Request two;
  const auto other = compressible(3000);
  two.add(proto::MemcpyHtoD{.dst = p + 8, .size = 1000, .bulk_offset = 0});
  two.add(proto::MemcpyHtoD{.dst = p + 2000, .size = 2000, .bulk_offset = 1000});
  two.add(proto::MemcpyDtoH{.src = p, .size = 4000});
  Request r2 = compressed(two, other, other.size());
  const Outcome both = h.send(peer, r2);
  REQUIRE(both.status == CUDA_SUCCESS);
  CHECK(both.call_index == 3);  // CompressedBulk is call 0
  REQUIRE(both.bulk.size() == 4000);
  CHECK(std::equal(other.begin(), other.begin() + 1000, both.bulk.begin() + 8));
  CHECK(std::equal(other.begin() + 1000, other.end(), both.bulk.begin() + 2000));
}

TEST_CASE("a malformed compressed bulk closes that session only") {
  Harness h;
  const auto bystander = h.open_session();
  const uint64_t mine = h.alloc(bystander, 64);
  const auto peer = h.open_session();
  const uint64_t p = h.alloc(peer, 1 << 16);
  const auto data = compressible(4096);
  Request copy;
  copy.add(proto::MemcpyHtoD{.dst = p, .size = data.size(), .bulk_offset = 0});

  const auto expect_closed = [&](const Outcome& o, std::string_view why) {
    CHECK(o.closed);
    CHECK(o.status == CUDA_ERROR_INVALID_VALUE);
    CHECK_MESSAGE(o.error().find(why) != std::string::npos, o.error());
  };
  SUBCASE("declared size differs from the frame's") {
    Request r = compressed(copy, data, data.size() + 1);
    // The copy fits the declared size; the frame does not match it.
    expect_closed(h.send(peer, r), "not one zstd frame");
  }
  SUBCASE("a copy past the declared size") {
    Request r = compressed(copy, std::span(data).first(100), 100);
    expect_closed(h.send(peer, r), "outside the 100-byte bulk");
  }
  SUBCASE("bytes that are no zstd frame") {
    Request r = compressed(copy, data, data.size());
    std::fill(r.bulk.begin(), r.bulk.end(), 0x5a);
    expect_closed(h.send(peer, r), "not one zstd frame");
  }
  SUBCASE("a frame with bytes after it") {
    Request r = compressed(copy, data, data.size());
    r.bulk.push_back(0);
    expect_closed(h.send(peer, r), "not one zstd frame");
  }
  SUBCASE("more than a message may carry once decompressed") {
    Request r = compressed(copy, data, uint64_t{1} << 40);
    expect_closed(h.send(peer, r), "more than the limit");
  }
  SUBCASE("an unknown codec") {
    Request r;
    r.add(proto::CompressedBulk{.raw_size = data.size(), .codec = 9});
    r.calls.append(copy.calls);
    r.bulk = zstd_frame(data);
    expect_closed(h.send(peer, r), "codec 9");
  }
  SUBCASE("CompressedBulk after the first call") {
    Request r;
    r.add(proto::MemGetInfo{});
    r.add(proto::CompressedBulk{.raw_size = data.size()});
    r.calls.append(copy.calls);
    r.bulk = zstd_frame(data);
    expect_closed(h.send(peer, r), "is not the first of the batch");
  }
  SUBCASE("a compressed bulk with nothing in it") {
    Request r;
    r.add(proto::CompressedBulk{.raw_size = 0});
    r.add(proto::MemGetInfo{});
    expect_closed(h.send(peer, r), "CompressedBulk");
  }
  CHECK(h.read(bystander, mine, 64).status == CUDA_SUCCESS);
}

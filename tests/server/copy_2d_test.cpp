// 2D copies and memsets, driven in process with the host backend: the rows
// land where their pitches say, and every width, height and pitch from the
// wire is checked before any byte moves.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>

#include "tests/server/harness.h"
#include "tests/server/test_util.h"

using namespace rrto;
using namespace rrto::server;
using namespace rrto::server::test;

namespace {

constexpr uint64_t kWidth = 40, kHeight = 10, kPitch = 64;  // bytes, rows, bytes
constexpr uint64_t kBytes = kPitch * kHeight;

// `height` rows of `width` bytes at `pitch` in a `pitch` * kHeight image:
// what a device array holds after the packed rows land in it over `fill`.
std::vector<uint8_t> scattered(const std::vector<uint8_t>& rows, uint64_t pitch, uint8_t fill) {
  std::vector<uint8_t> image(pitch * kHeight, fill);
  for (uint64_t y = 0; y < kHeight; ++y)
    std::copy_n(rows.begin() + y * kWidth, kWidth, image.begin() + y * pitch);
  return image;
}

Outcome upload_rows(Harness& h, transport::PeerId peer, uint64_t dst, uint64_t pitch, const std::vector<uint8_t>& rows,
                    uint64_t width = kWidth, uint64_t height = kHeight) {
  Request r;
  const uint64_t at = r.add_bulk(rows.data(), rows.size());
  r.add(proto::Memcpy2DHtoD{.dst = dst, .dst_pitch = pitch, .width = width, .height = height, .bulk_offset = at});
  return h.send(peer, r);
}

Outcome download_rows(Harness& h, transport::PeerId peer, uint64_t src, uint64_t pitch, uint64_t width = kWidth,
                      uint64_t height = kHeight) {
  Request r;
  r.add(proto::Memcpy2DDtoH{.src = src, .src_pitch = pitch, .width = width, .height = height});
  return h.send(peer, r);
}

}  // namespace

TEST_CASE("2D copies scatter and gather pitched rows, and 2D memsets clear a sub-rectangle") {
  Harness h;
  const auto peer = h.open_session();
  const uint64_t a = h.alloc(peer, kBytes), b = h.alloc(peer, 2 * kBytes);
  REQUIRE(h.send_call(peer, proto::Memset{.dst = a, .value = 0xee, .element_size = 1, .count = kBytes}).status == CUDA_SUCCESS);
  REQUIRE(h.send_call(peer, proto::Memset{.dst = b, .value = 0xee, .element_size = 1, .count = 2 * kBytes}).status ==
          CUDA_SUCCESS);
  const auto rows = pattern(kWidth * kHeight, 7);
  REQUIRE(upload_rows(h, peer, a, kPitch, rows).status == CUDA_SUCCESS);
  CHECK(h.read(peer, a, kBytes).bulk == scattered(rows, kPitch, 0xee));  // the padding untouched

  const Outcome down = download_rows(h, peer, a, kPitch);
  REQUIRE(down.status == CUDA_SUCCESS);
  CHECK(down.bulk == rows);

  // Into rows twice as far apart, then rows 2..5, bytes 8..23 of them set to 0x0102 pairs.
  REQUIRE(h.send_call(peer, proto::Memcpy2DDtoD{.dst = b, .dst_pitch = 2 * kPitch, .src = a, .src_pitch = kPitch,
                                            .width = kWidth, .height = kHeight})
              .status == CUDA_SUCCESS);
  REQUIRE(h.send_call(peer, proto::Memset2D{.dst = b + 2 * 2 * kPitch + 8, .pitch = 2 * kPitch, .value = 0x0102,
                                        .element_size = 2, .width = 8, .height = 4})
              .status == CUDA_SUCCESS);
  std::vector<uint8_t> expected = scattered(rows, 2 * kPitch, 0xee);
  for (uint64_t y = 2; y < 6; ++y) {
    for (uint64_t x = 8; x < 24; x += 2) {
      expected[y * 2 * kPitch + x] = 0x02;
      expected[y * 2 * kPitch + x + 1] = 0x01;
    }
  }
  CHECK(h.read(peer, b, 2 * kBytes).bulk == expected);
}

TEST_CASE("2D copies and memsets outside the session's memory are refused, and the session goes on") {
  Harness h;
  const auto peer = h.open_session();
  const auto other = h.open_session();
  const uint64_t a = h.alloc(peer, kBytes);
  const uint64_t theirs = h.alloc(other, kBytes);
  const auto rows = pattern(kWidth * kHeight, 3);

  // The last row ends one byte past the allocation.
  const Outcome past = upload_rows(h, peer, a + kPitch - kWidth + 1, kPitch, rows);
  CHECK(past.status == CUDA_ERROR_INVALID_VALUE);
  CHECK_FALSE(past.closed);
  CHECK(past.error().find("not inside one allocation") != std::string::npos);
  CHECK(download_rows(h, peer, a + 1, kPitch, kPitch).status == CUDA_ERROR_INVALID_VALUE);
  // A pitch shorter than the rows, and rows so far apart that their extent wraps.
  CHECK(upload_rows(h, peer, a, kWidth - 1, rows).status == CUDA_ERROR_INVALID_VALUE);
  CHECK(download_rows(h, peer, a, UINT64_MAX / 2, 8, 3).status == CUDA_ERROR_INVALID_VALUE);
  CHECK(download_rows(h, peer, a, UINT64_MAX, 1, 2).status == CUDA_ERROR_INVALID_VALUE);
  // Another session's memory, either side.
  CHECK(upload_rows(h, peer, theirs, kPitch, rows).status == CUDA_ERROR_INVALID_VALUE);
  CHECK(download_rows(h, peer, theirs, kPitch).status == CUDA_ERROR_INVALID_VALUE);
  CHECK(h.send_call(peer, proto::Memcpy2DDtoD{.dst = a, .dst_pitch = kPitch, .src = theirs, .src_pitch = kPitch,
                                          .width = kWidth, .height = kHeight})
            .status == CUDA_ERROR_INVALID_VALUE);
  // Its last destination row ends past the allocation.
  CHECK(h.send_call(peer, proto::Memcpy2DDtoD{.dst = a, .dst_pitch = kPitch + 3, .src = a, .src_pitch = kPitch,
                                          .width = kWidth, .height = kHeight})
            .status == CUDA_ERROR_INVALID_VALUE);
  // Memsets: the element size, alignment, a width whose bytes overflow, the extent.
  CHECK(h.send_call(peer, proto::Memset2D{.dst = a, .pitch = kPitch, .element_size = 3, .width = 1, .height = 1}).status ==
        CUDA_ERROR_INVALID_VALUE);
  CHECK(h.send_call(peer, proto::Memset2D{.dst = a + 2, .pitch = kPitch, .element_size = 4, .width = 1, .height = 1})
            .status == CUDA_ERROR_INVALID_VALUE);
  CHECK(h.send_call(peer, proto::Memset2D{.dst = a, .pitch = kPitch + 2, .element_size = 4, .width = 1, .height = 2})
            .status == CUDA_ERROR_INVALID_VALUE);
  CHECK(h.send_call(peer, proto::Memset2D{.dst = a, .pitch = kPitch, .element_size = 4, .width = UINT64_MAX / 2,
                                      .height = 1})
            .status == CUDA_ERROR_INVALID_VALUE);
  CHECK(h.send_call(peer, proto::Memset2D{.dst = a, .pitch = kPitch, .element_size = 1, .width = kWidth,
                                      .height = kHeight + 1})
            .status == CUDA_ERROR_INVALID_VALUE);
  CHECK(h.send_call(peer, proto::Memset2D{.dst = theirs, .pitch = kPitch, .element_size = 1, .width = 1, .height = 1})
            .status == CUDA_ERROR_INVALID_VALUE);

  // Nothing landed, and the session is still in business.
  CHECK(upload_rows(h, peer, a, kPitch, rows).status == CUDA_SUCCESS);
  CHECK(download_rows(h, peer, a, kPitch).bulk == rows);
}

TEST_CASE("a 2D upload whose packed rows are not in the bulk, or a 2D copy back before the end, is malformed") {
  Harness h;
  const auto peer = h.open_session();
  const uint64_t a = h.alloc(peer, kBytes);
  const auto rows = pattern(kWidth * kHeight, 1);
  const Outcome short_bulk = upload_rows(h, peer, a, kPitch, rows, kWidth, kHeight + 1);
  CHECK(short_bulk.status == CUDA_ERROR_INVALID_VALUE);
  CHECK(short_bulk.closed);

  const auto wrap_peer = h.open_session();
  const uint64_t w = h.alloc(wrap_peer, kBytes);
  Request wrap;  // width * height overflows
  const uint64_t at = wrap.add_bulk(rows.data(), rows.size());
  wrap.add(proto::Memcpy2DHtoD{.dst = w, .dst_pitch = kPitch, .width = 1ull << 33, .height = 1ull << 31, .bulk_offset = at});
  CHECK(h.send(wrap_peer, wrap).closed);

  const auto last_peer = h.open_session();
  const uint64_t q = h.alloc(last_peer, kBytes);
  Request not_last;
  not_last.add(proto::Memcpy2DDtoH{.src = q, .src_pitch = kPitch, .width = kWidth, .height = 2});
  not_last.add(proto::MemGetInfo{});
  const Outcome o = h.send(last_peer, not_last);
  CHECK(o.closed);
  CHECK(o.error().find("Memcpy2DDtoH") != std::string::npos);
}

TEST_CASE("a template with a 2D upload and a 2D copy back replays with fresh inputs") {
  Harness h;
  const auto peer = h.open_session();
  const uint64_t a = h.alloc(peer, kBytes), b = h.alloc(peer, kBytes);
  proto::BatchWriter calls;
  calls.add(proto::Memcpy2DHtoD{.dst = a, .dst_pitch = kPitch, .width = kWidth, .height = kHeight});
  calls.add(proto::Memcpy2DDtoD{.dst = b, .dst_pitch = kPitch, .src = a, .src_pitch = kPitch, .width = kWidth,
                                .height = kHeight});
  calls.add(proto::Memset2D{.dst = b, .pitch = kPitch, .value = 0xaa, .element_size = 1, .width = 4, .height = kHeight});
  calls.add(proto::Memcpy2DDtoH{.src = b, .src_pitch = kPitch, .width = kWidth, .height = kHeight});
  Request reg;
  reg.add(proto::TemplateRegister{.tmpl = 3, .calls = calls.bytes()});
  REQUIRE(h.send(peer, reg).status == CUDA_SUCCESS);
  for (uint8_t seed : {11, 12}) {
    const auto rows = pattern(kWidth * kHeight, seed);
    Request r;
    const uint64_t at = r.add_bulk(rows.data(), rows.size());
    r.add(proto::ReplaySegment{.tmpl = 3, .first = 0, .last = 3, .input_offset = at});
    const Outcome o = h.send(peer, r);
    REQUIRE(o.status == CUDA_SUCCESS);
    std::vector<uint8_t> expected = rows;
    for (uint64_t y = 0; y < kHeight; ++y) std::fill_n(expected.begin() + y * kWidth, 4, 0xaa);
    CHECK(o.bulk == expected);
  }
  Request short_inputs;  // fewer input bytes than the packed rows
  const auto few = pattern(kWidth, 1);
  const uint64_t at = short_inputs.add_bulk(few.data(), few.size());
  short_inputs.add(proto::ReplaySegment{.tmpl = 3, .first = 0, .last = 3, .input_offset = at});
  CHECK(h.send(peer, short_inputs).status == CUDA_ERROR_INVALID_VALUE);
}

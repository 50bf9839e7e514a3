#include <doctest/doctest.h>

#include "common/codec.h"

using namespace rrto;

TEST_CASE("codec round-trips values, blobs and strings") {
  std::vector<uint8_t> buf;
  ByteWriter w(buf);
  w.put<uint32_t>(0xdeadbeef);
  w.put<uint64_t>(42);
  w.put_string("kernel");
  const uint8_t blob[3] = {1, 2, 3};
  w.put_blob(blob);

  ByteReader r(buf);
  CHECK(r.get_or<uint32_t>(0) == 0xdeadbeef);
  CHECK(r.get_or<uint64_t>(0) == 42);
  std::string s;
  CHECK(r.get_string(s));
  CHECK(s == "kernel");
  auto b = r.get_blob();
  REQUIRE(b.size() == 3);
  CHECK(b[2] == 3);
  CHECK(r.done());
}

TEST_CASE("codec reader fails on truncated input and stays failed") {
  std::vector<uint8_t> buf;
  ByteWriter w(buf);
  w.put<uint32_t>(1000);  // a blob claiming 1000 bytes
  w.put<uint8_t>(7);
  ByteReader r(buf);
  CHECK(r.get_blob().empty());
  CHECK(r.failed());
  uint8_t x = 0;
  CHECK_FALSE(r.get(x));  // sticky: nothing more is read
  CHECK_FALSE(r.done());
}

TEST_CASE("codec reader rejects a length that would wrap around") {
  std::vector<uint8_t> buf(16, 0);
  ByteReader r(buf);
  CHECK(r.get_bytes(SIZE_MAX).empty());
  CHECK(r.failed());
}

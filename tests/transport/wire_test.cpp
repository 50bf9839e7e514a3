#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "transport/wire.h"

using namespace rrto;
using namespace rrto::transport;

namespace {

std::vector<uint8_t> header_bytes(const WireHeader& h, std::span<const uint8_t> meta = {}) {
  std::vector<uint8_t> v(sizeof(h) + meta.size());
  std::memcpy(v.data(), &h, sizeof(h));
  if (!meta.empty()) std::memcpy(v.data() + sizeof(h), meta.data(), meta.size());
  return v;
}

Status check(const std::vector<uint8_t>& am_header, size_t data_length, wire::Incoming& in) {
  std::string why;
  const Status st = wire::validate(am_header.data(), am_header.size(), data_length, in, why);
  if (!ok(st)) CHECK(!why.empty());
  return st;
}

}  // namespace

TEST_CASE("a well-formed header with inline metadata") {
  const std::vector<uint8_t> meta = {1, 2, 3};
  const auto h = header_bytes(wire::make_header(42, 3, 1000, 0), meta);
  wire::Incoming in;
  REQUIRE(check(h, 1000, in) == Status::Ok);
  CHECK(unsigned{in.header.opcode} == 42);
  CHECK(!in.meta_in_data());
  CHECK(in.data_length() == 1000);
  REQUIRE(in.inline_meta.size() == 3);
  CHECK(in.inline_meta[2] == 3);
}

TEST_CASE("a well-formed header with metadata in the data") {
  const auto h = header_bytes(wire::make_header(1, 5000, 10, wire::kFlagMetaInData));
  wire::Incoming in;
  REQUIRE(check(h, 5010, in) == Status::Ok);
  CHECK(in.meta_in_data());
  CHECK(in.inline_meta.empty());
  CHECK(check(h, 5009, in) == Status::ProtocolError);
  CHECK(check(h, 10, in) == Status::ProtocolError);
}

TEST_CASE("malformed headers are rejected") {
  wire::Incoming in;
  const WireHeader good = wire::make_header(1, 0, 0, 0);
  CHECK(check({}, 0, in) == Status::ProtocolError);
  CHECK(check({1, 2, 3}, 0, in) == Status::ProtocolError);
  auto truncated = header_bytes(good);
  truncated.pop_back();
  CHECK(check(truncated, 0, in) == Status::ProtocolError);

  WireHeader h = good;
  h.magic ^= 1;
  CHECK(check(header_bytes(h), 0, in) == Status::ProtocolError);
  h = good;
  h.version = kWireVersion + 1;
  CHECK(check(header_bytes(h), 0, in) == Status::ProtocolError);
  h = good;
  h.flags = 1u << 31;
  CHECK(check(header_bytes(h), 0, in) == Status::ProtocolError);
  h = good;
  h.meta_length = 4;  // claimed inline, not there
  CHECK(check(header_bytes(h), 0, in) == Status::ProtocolError);
  h = good;
  h.meta_length = static_cast<uint32_t>(kMaxMetaLength + 1);
  h.flags = wire::kFlagMetaInData;
  CHECK(check(header_bytes(h), kMaxMetaLength + 1, in) == Status::ProtocolError);
  h = good;
  h.bulk_length = kMaxBulkLength + 1;
  CHECK(check(header_bytes(h), 0, in) == Status::ProtocolError);
  h = good;
  h.bulk_length = 100;  // claims more than arrives
  CHECK(check(header_bytes(h), 99, in) == Status::ProtocolError);
  // Extra bytes after the header that it does not declare.
  auto extra = header_bytes(good);
  extra.push_back(0);
  CHECK(check(extra, 0, in) == Status::ProtocolError);
}

// Mapped host memory: the ranges' lookups, and what the client sends to keep
// a range and its shadow coherent, against a fake connection.
#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "client/client.h"
#include "fake_connection.h"

namespace rrto::client {
namespace {

constexpr CUdeviceptr kShadow = 0x7000;
constexpr uint64_t kStream = 0x11, kOtherStream = 0x12;

struct Fixture {
  Fixture() {
    state.remote.attach(std::make_unique<FakeConnection>(sent), "fake");
    state.remote.set_mode(Mode::Async);
    HostRange range{.size = sizeof(host), .flags = CU_MEMHOSTALLOC_DEVICEMAP, .shadow = kShadow};
    range.known.resize(range.size);
    range.incoming.resize(range.size);
    state.device_allocations[kShadow] = range.size;
    state.mapped.add(host, std::move(range));
  }
  std::vector<SentBatch> sent;
  ClientState state;
  uint8_t host[4] = {1, 2, 0xab, 4};
};

TEST_CASE("a mapped range is found by its host addresses and its shadow's") {
  Fixture f;
  MappedMemory& mapped = f.state.mapped;
  CHECK_FALSE(mapped.none_mapped());
  CHECK(mapped.find_host(f.host + 3) != nullptr);
  CHECK(mapped.find_host(f.host + 4) == nullptr);
  CHECK(mapped.find_shadow(kShadow + 2).first == f.host);
  CHECK(mapped.find_shadow(kShadow + 4).second == nullptr);
  CHECK(mapped.touches_shadow(kShadow - 2, 3));
  CHECK_FALSE(mapped.touches_shadow(kShadow - 2, 2));
  CHECK(mapped.overlaps(f.host + 3, 10));
  CHECK_FALSE(mapped.overlaps(f.host + 4, 10));
  CHECK(mapped.remove(f.host) == kShadow);
  CHECK(mapped.none_mapped());
}

TEST_CASE("device work uploads the host bytes once, until a download") {
  Fixture f;
  REQUIRE(upload_mapped_ranges(f.state, kStream) == CUDA_SUCCESS);
  REQUIRE(upload_mapped_ranges(f.state, kStream) == CUDA_SUCCESS);  // the shadow may be newer now
  REQUIRE(f.state.remote.flush() == CUDA_SUCCESS);
  REQUIRE(f.sent.size() == 1);
  const auto calls = calls_of(f.sent[0].meta);
  REQUIRE(calls.size() == 1);
  const auto upload = decode<proto::MemcpyHtoD>(calls[0]);
  CHECK(upload.dst == kShadow);
  CHECK(upload.stream == kStream);
  CHECK(f.sent[0].bulk == std::vector<uint8_t>{1, 2, 0xab, 4});
  CHECK(f.state.mapped.device_may_have_written());
}

TEST_CASE("a download brings the device's changes and keeps the host's own writes") {
  Fixture f;
  REQUIRE(upload_mapped_ranges(f.state, kStream) == CUDA_SUCCESS);
  f.host[2] = 7;  // the host writes where the device (the fake answers 0xab everywhere) changed nothing
  REQUIRE(download_mapped_ranges(f.state, kStream) == CUDA_SUCCESS);
  CHECK(f.host[0] == 0xab);
  CHECK(f.host[1] == 0xab);
  CHECK(f.host[2] == 7);
  CHECK(f.host[3] == 0xab);
  CHECK_FALSE(f.state.mapped.device_may_have_written());
  const auto calls = calls_of(f.sent.back().meta);
  CHECK(decode<proto::MemcpyDtoH>(calls.back()).src == kShadow);
}

TEST_CASE("work on a stream nobody waited for keeps the next synchronisation downloading") {
  Fixture f;
  REQUIRE(upload_mapped_ranges(f.state, kStream) == CUDA_SUCCESS);
  f.state.unsynced_streams = {kStream, kOtherStream};
  REQUIRE(download_mapped_ranges(f.state, kStream) == CUDA_SUCCESS);
  CHECK(f.state.mapped.device_may_have_written());
  f.state.unsynced_streams.erase(kOtherStream);
  REQUIRE(download_mapped_ranges(f.state, kOtherStream) == CUDA_SUCCESS);
  CHECK_FALSE(f.state.mapped.device_may_have_written());
}

}  // namespace
}  // namespace rrto::client

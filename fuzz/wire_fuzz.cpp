// transport::wire::validate, the first look at every incoming message.
// Input: u64 data length UCX delivered, then the AM header bytes.
#include <cstring>
#include <string>

#include "fuzz/fuzz_input.h"
#include "transport/wire.h"

using namespace rrto;
namespace wire = rrto::transport::wire;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::FuzzInput in(data, size);
  const uint64_t data_length = in.take<uint64_t>();
  const std::span<const uint8_t> am_header = in.rest();
  wire::Incoming incoming;
  std::string why;
  if (!ok(wire::validate(am_header.data(), am_header.size(), data_length, incoming, why))) {
    RRTO_FUZZ_CHECK(!why.empty());
    return 0;
  }
  const transport::WireHeader& h = incoming.header;
  RRTO_FUZZ_CHECK(h.meta_length <= transport::kMaxMetaLength && h.bulk_length <= transport::kMaxBulkLength);
  RRTO_FUZZ_CHECK(incoming.data_length() == data_length);
  if (incoming.meta_in_data()) {
    RRTO_FUZZ_CHECK(am_header.size() == sizeof(transport::WireHeader));
  } else {
    RRTO_FUZZ_CHECK(incoming.inline_meta.data() == am_header.data() + sizeof(transport::WireHeader));
    RRTO_FUZZ_CHECK(incoming.inline_meta.size() == am_header.size() - sizeof(transport::WireHeader));
  }
  // An accepted header is exactly what make_header writes for its fields.
  const transport::WireHeader again = wire::make_header(h.opcode, h.meta_length, h.bulk_length, h.flags);
  RRTO_FUZZ_CHECK(std::memcmp(&again, am_header.data(), sizeof again) == 0);
  return 0;
}

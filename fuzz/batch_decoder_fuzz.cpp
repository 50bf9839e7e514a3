// The server's batch and template decoder (server/batch_decoder, protocol/).
// Input: u32 bulk length (kept under 64 KiB), then the batch metadata.
#include <string>
#include <variant>
#include <vector>

#include "fuzz/fuzz_input.h"
#include "server/batch_decoder.h"

using namespace rrto;
using rrto::server::DecodedCall;

namespace {

constexpr size_t kMaxTemplateOperators = 64;

bool inside(std::span<const uint8_t> part, std::span<const uint8_t> whole) {
  return part.empty() || (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

// A batch that decodes is exactly what BatchWriter writes for its calls.
void check_reencodes(std::span<const DecodedCall> calls, std::span<const uint8_t> meta) {
  proto::BatchWriter writer;
  for (const DecodedCall& decoded : calls) std::visit([&](const auto& call) { writer.add(call); }, decoded.call);
  RRTO_FUZZ_CHECK(writer.bytes().size() == meta.size());
  RRTO_FUZZ_CHECK(std::equal(meta.begin(), meta.end(), writer.bytes().begin()));
}

void check_template(std::span<const uint8_t> calls_meta) {
  std::vector<DecodedCall> operators;
  std::string why;
  if (!ok(server::decode_template(calls_meta, kMaxTemplateOperators, operators, why))) {
    RRTO_FUZZ_CHECK(!why.empty());
    return;
  }
  RRTO_FUZZ_CHECK(!operators.empty() && operators.size() <= kMaxTemplateOperators);
  for (const DecodedCall& op : operators) RRTO_FUZZ_CHECK(proto::is_operator(proto::call_op(op.call)));
  check_reencodes(operators, calls_meta);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::FuzzInput in(data, size);
  const uint64_t bulk_length = in.take<uint32_t>() % (64u << 10);
  const std::span<const uint8_t> meta = in.rest();
  std::vector<DecodedCall> calls;
  std::string why;
  check_template(meta);
  if (!ok(server::decode_batch(meta, bulk_length, calls, why))) {
    RRTO_FUZZ_CHECK(!why.empty());
    return 0;
  }
  check_reencodes(calls, meta);
  const std::vector<uint8_t> bulk(bulk_length);
  server::attach_bulk(calls, bulk);
  for (size_t i = 0; i < calls.size(); ++i) {
    RRTO_FUZZ_CHECK(inside(calls[i].bulk, bulk));
    RRTO_FUZZ_CHECK(i + 1 == calls.size() || !std::holds_alternative<proto::MemcpyDtoH>(calls[i].call));
    if (const auto* reg = std::get_if<proto::TemplateRegister>(&calls[i].call)) {
      RRTO_FUZZ_CHECK(inside(reg->calls, meta));
      check_template(reg->calls);
    }
  }
  return 0;
}

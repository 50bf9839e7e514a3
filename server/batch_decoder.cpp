#include "server/batch_decoder.h"

#include <algorithm>
#include <optional>

#include <fmt/format.h>

#include "common/limits.h"

namespace rrto::server {
namespace {

struct BulkRange {
  uint64_t offset = 0, size = 0;
};

// The bytes of a `bulk_length`-byte bulk that `call` reads, unchecked; none
// for a call that reads no bulk.
std::optional<BulkRange> bulk_range(const proto::AnyCall& call, uint64_t bulk_length) {
  if (const auto* htod = std::get_if<proto::MemcpyHtoD>(&call)) return BulkRange{htod->bulk_offset, bulk_bytes(*htod)};
  if (const auto* rows = std::get_if<proto::Memcpy2DHtoD>(&call)) return BulkRange{rows->bulk_offset, bulk_bytes(*rows)};
  if (const auto* load = std::get_if<proto::ModuleLoad>(&call)) return BulkRange{load->bulk_offset, bulk_bytes(*load)};
  if (const auto* replay = std::get_if<proto::ReplaySegment>(&call))
    return BulkRange{replay->input_offset, bulk_length - std::min<uint64_t>(replay->input_offset, bulk_length)};
  return std::nullopt;
}

// Decodes every call of `meta` into `calls`, naming each `entry` in
// messages; `check(index, call, why)` may refuse one.
template <typename Check>
Status decode_calls(std::span<const uint8_t> meta, std::string_view entry, std::vector<DecodedCall>& calls,
                    std::string& why, Check&& check) {
  calls.clear();
  proto::BatchReader reader(meta);
  // Never trust the count for a reservation: each call takes at least 6 bytes.
  calls.reserve(std::min<size_t>(reader.count(), meta.size() / 6));
  proto::CallView view{};
  while (reader.next(view)) {
    const size_t index = calls.size();
    DecodedCall& decoded = calls.emplace_back();
    if (!proto::decode_call(view, decoded.call)) {
      why = fmt::format("{} {} ({}): body of {} bytes does not decode", entry, index, proto::call_op_name(view.op),
                        view.body.size());
      return Status::ProtocolError;
    }
    if (!check(index, decoded.call, why)) return Status::ProtocolError;
  }
  if (reader.failed() || calls.empty()) {
    why = calls.empty() && !reader.failed()
              ? std::string("no calls")
              : fmt::format("truncated, or an unknown call after {} {}", entry, calls.size());
    return Status::ProtocolError;
  }
  return Status::Ok;
}

}  // namespace

Status decode_batch(std::span<const uint8_t> meta, uint64_t bulk_length, std::vector<DecodedCall>& calls,
                    std::string& why) {
  if (const uint32_t count = proto::BatchReader(meta).count(); count > limits::kBatchCalls) {
    why = fmt::format("{} calls in one batch, more than {}", count, limits::kBatchCalls);
    return Status::ProtocolError;
  }
  auto first_only = [](size_t index, const proto::AnyCall& call, std::string& why) {
    if (index == 0 || !std::holds_alternative<proto::CompressedBulk>(call)) return true;
    why = fmt::format("call {} (CompressedBulk) is not the first of the batch", index);
    return false;
  };
  if (Status s = decode_calls(meta, "call", calls, why, first_only); !ok(s)) return s;
  // The calls' bulk offsets are into the bulk as it is once decompressed.
  if (const proto::CompressedBulk* compressed = compressed_bulk(calls)) {
    if (compressed->codec != proto::kCodecZstd || bulk_length == 0) {
      why = fmt::format("CompressedBulk: codec {} with {} bytes of bulk", compressed->codec, bulk_length);
      return Status::ProtocolError;
    }
    bulk_length = compressed->raw_size;
  }
  for (size_t i = 0; i < calls.size(); ++i) {
    const std::optional<BulkRange> range = bulk_range(calls[i].call, bulk_length);
    if (range && (range->offset > bulk_length || range->size > bulk_length - range->offset)) {
      why = fmt::format("call {} ({}): bulk range [{}, +{}) is outside the {}-byte bulk", i,
                        proto::call_op_name(proto::call_op(calls[i].call)), range->offset, range->size, bulk_length);
      return Status::ProtocolError;
    }
    if (i + 1 < calls.size() && proto::copies_to_host(proto::call_op(calls[i].call))) {
      why = fmt::format("call {} ({}) is not the last of the batch", i, proto::call_op_name(proto::call_op(calls[i].call)));
      return Status::ProtocolError;
    }
  }
  return Status::Ok;
}

BatchSummary summarize(std::span<const DecodedCall> calls) {
  BatchSummary summary;
  for (const DecodedCall& c : calls) {
    const proto::CallOp op = proto::call_op(c.call);
    const bool replay = op == proto::CallOp::ReplaySegment;
    summary.device_work |= replay || proto::is_operator(op);
    summary.runs_kernels |= replay || proto::launches_kernel(op);
    summary.replay_segments += replay;
    if (const auto* alloc = std::get_if<proto::MemAlloc>(&c.call)) summary.allocation_bytes += alloc->size;
  }
  return summary;
}

const proto::CompressedBulk* compressed_bulk(std::span<const DecodedCall> calls) {
  return calls.empty() ? nullptr : std::get_if<proto::CompressedBulk>(&calls.front().call);
}

void attach_bulk(std::span<DecodedCall> calls, std::span<const uint8_t> bulk) {
  for (DecodedCall& decoded : calls) {
    if (const std::optional<BulkRange> range = bulk_range(decoded.call, bulk.size()))
      decoded.bulk = bulk.subspan(range->offset, range->size);
  }
}

Status decode_template(std::span<const uint8_t> calls_meta, size_t max_operators, std::vector<DecodedCall>& calls,
                       std::string& why) {
  if (const uint32_t count = proto::BatchReader(calls_meta).count(); count > max_operators) {
    why = fmt::format("{} operators, more than the {} a template may hold", count, max_operators);
    return Status::OutOfRange;
  }
  auto only_operators = [](size_t index, const proto::AnyCall& call, std::string& why) {
    const proto::CallOp op = proto::call_op(call);
    if (proto::is_operator(op)) return true;
    why = fmt::format("template entry {} ({}) is not an operator", index, proto::call_op_name(op));
    return false;
  };
  return decode_calls(calls_meta, "template entry", calls, why, only_operators);
}

}  // namespace rrto::server

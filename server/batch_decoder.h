// Turns a received batch request into the list of calls to run, checking its
// whole shape before anything runs: every call known and fully decoded, every
// bulk range inside the received bulk, MemcpyDtoH only as the last call. A
// batch that fails here is malformed (the session is closed); value errors
// (an unknown handle, a range outside the session's memory) are found later,
// when the call runs, and only fail that call.
//
// Decoding needs only the metadata and the bulk's length, so it can happen
// before the bulk has landed (to choose where it lands); attach_bulk then
// points the calls at the bytes.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "protocol/any_call.h"

namespace rrto::server {

struct DecodedCall {
  proto::AnyCall call;
  // MemcpyHtoD's payload or ModuleLoad's image: its range of the bulk;
  // ReplaySegment's inputs: the bulk from its input offset on.
  std::span<const uint8_t> bulk;
};

// At most limits::kBatchCalls calls. On failure returns ProtocolError and
// says why; `calls` then holds nothing useful. The calls point into `meta`, which must outlive them.
// A batch whose first call is CompressedBulk has its bulk ranges checked
// against the decompressed size it declares (which the caller bounds).
Status decode_batch(std::span<const uint8_t> meta, uint64_t bulk_length, std::vector<DecodedCall>& calls,
                    std::string& why);

// The batch's CompressedBulk, if its bulk is compressed.
const proto::CompressedBulk* compressed_bulk(std::span<const DecodedCall> calls);

// Points each call decoded with decode_batch(meta, bulk.size(), ...) at its
// bytes of `bulk`, which must outlive them.
void attach_bulk(std::span<DecodedCall> calls, std::span<const uint8_t> bulk);

// What a decoded batch holds, learned in one pass over its calls.
struct BatchSummary {
  bool device_work = false;   // an operator or a replay: the batch occupies the device
  bool runs_kernels = false;  // a launch or a replay
  uint64_t replay_segments = 0;
  uint64_t allocation_bytes = 0;  // asked for by its MemAllocs
};
BatchSummary summarize(std::span<const DecodedCall> calls);

// Decodes the operator calls of a template (TemplateRegister::calls): at most
// `max_operators`, and only operators. Their bulk ranges are left empty.
Status decode_template(std::span<const uint8_t> calls_meta, size_t max_operators, std::vector<DecodedCall>& calls,
                       std::string& why);

}  // namespace rrto::server

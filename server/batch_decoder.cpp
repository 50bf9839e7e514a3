#include "server/batch_decoder.h"

#include <algorithm>

#include <fmt/format.h>

#include "protocol/batch.h"

namespace rrto::server {
namespace {

template <typename Call>
bool decode_as(std::span<const uint8_t> body, AnyCall& out) {
  Call call;
  if (!proto::decode_fields(body, call)) return false;
  out = call;
  return true;
}

bool decode_call(const proto::CallView& view, AnyCall& out) {
  using proto::CallOp;
  switch (view.op) {
#define RRTO_DECODE(name) \
  case CallOp::name: return decode_as<proto::name>(view.body, out);
    RRTO_DECODE(Hello)
    RRTO_DECODE(MemAlloc)
    RRTO_DECODE(MemFree)
    RRTO_DECODE(MemGetInfo)
    RRTO_DECODE(MemcpyHtoD)
    RRTO_DECODE(MemcpyDtoH)
    RRTO_DECODE(MemcpyDtoD)
    RRTO_DECODE(Memset)
    RRTO_DECODE(ModuleLoad)
    RRTO_DECODE(ModuleUnload)
    RRTO_DECODE(ModuleGetFunction)
    RRTO_DECODE(ModuleGetGlobal)
    RRTO_DECODE(FuncGetAttribute)
    RRTO_DECODE(Launch)
    RRTO_DECODE(StreamCreate)
    RRTO_DECODE(StreamDestroy)
    RRTO_DECODE(StreamSynchronize)
    RRTO_DECODE(StreamQuery)
    RRTO_DECODE(StreamWaitEvent)
    RRTO_DECODE(EventCreate)
    RRTO_DECODE(EventDestroy)
    RRTO_DECODE(EventRecord)
    RRTO_DECODE(EventSynchronize)
    RRTO_DECODE(EventQuery)
    RRTO_DECODE(EventElapsedTime)
    RRTO_DECODE(CtxSynchronize)
    RRTO_DECODE(TemplateRegister)
    RRTO_DECODE(TemplateDrop)
    RRTO_DECODE(ReplaySegment)
#undef RRTO_DECODE
    case CallOp::Count_: break;
  }
  return false;
}

bool bulk_range(std::span<const uint8_t> bulk, uint64_t offset, uint64_t size, std::span<const uint8_t>& out) {
  if (offset > bulk.size() || size > bulk.size() - offset) return false;
  out = bulk.subspan(offset, size);
  return true;
}

}  // namespace

Status decode_batch(std::span<const uint8_t> meta, std::span<const uint8_t> bulk, std::vector<DecodedCall>& calls,
                    std::string& why) {
  calls.clear();
  proto::BatchReader reader(meta);
  if (reader.count() == 0) {
    why = "an empty batch";
    return Status::ProtocolError;
  }
  // Never trust the count for a reservation: each call takes at least 6 bytes.
  calls.reserve(std::min<size_t>(reader.count(), meta.size() / 6));
  proto::CallView view{};
  while (reader.next(view)) {
    const size_t index = calls.size();
    DecodedCall& decoded = calls.emplace_back();
    if (!decode_call(view, decoded.call)) {
      why = fmt::format("call {} ({}): body of {} bytes does not decode", index, proto::call_op_name(view.op),
                        view.body.size());
      return Status::ProtocolError;
    }
    if (const auto* htod = std::get_if<proto::MemcpyHtoD>(&decoded.call)) {
      if (!bulk_range(bulk, htod->bulk_offset, htod->size, decoded.bulk)) {
        why = fmt::format("call {} (MemcpyHtoD): bulk range [{}, +{}) is outside the {}-byte bulk", index,
                          htod->bulk_offset, htod->size, bulk.size());
        return Status::ProtocolError;
      }
    } else if (const auto* replay = std::get_if<proto::ReplaySegment>(&decoded.call)) {
      if (!bulk_range(bulk, replay->input_offset, bulk.size() - std::min<uint64_t>(replay->input_offset, bulk.size()),
                      decoded.bulk)) {
        why = fmt::format("call {} (ReplaySegment): input offset {} is outside the {}-byte bulk", index,
                          replay->input_offset, bulk.size());
        return Status::ProtocolError;
      }
    } else if (const auto* load = std::get_if<proto::ModuleLoad>(&decoded.call)) {
      if (!bulk_range(bulk, load->bulk_offset, load->size, decoded.bulk)) {
        why = fmt::format("call {} (ModuleLoad): bulk range [{}, +{}) is outside the {}-byte bulk", index,
                          load->bulk_offset, load->size, bulk.size());
        return Status::ProtocolError;
      }
    }
  }
  if (reader.failed()) {
    why = fmt::format("the batch is truncated or has an unknown call after call {}", calls.size());
    return Status::ProtocolError;
  }
  for (size_t i = 0; i + 1 < calls.size(); ++i) {
    if (std::holds_alternative<proto::MemcpyDtoH>(calls[i].call)) {
      why = fmt::format("call {} (MemcpyDtoH) is not the last of the batch", i);
      return Status::ProtocolError;
    }
  }
  return Status::Ok;
}

Status decode_template(std::span<const uint8_t> calls_meta, std::vector<DecodedCall>& calls, std::string& why) {
  calls.clear();
  proto::BatchReader reader(calls_meta);
  calls.reserve(std::min<size_t>(reader.count(), calls_meta.size() / 6));
  proto::CallView view{};
  while (reader.next(view)) {
    const size_t index = calls.size();
    DecodedCall& decoded = calls.emplace_back();
    if (!decode_call(view, decoded.call)) {
      why = fmt::format("template operator {} ({}) does not decode", index, proto::call_op_name(view.op));
      return Status::ProtocolError;
    }
    const bool is_operator =
        std::visit([](const auto& c) { return proto::kIsOperator<std::decay_t<decltype(c)>>; }, decoded.call);
    if (!is_operator) {
      why = fmt::format("template entry {} ({}) is not an operator", index, proto::call_op_name(view.op));
      return Status::ProtocolError;
    }
  }
  if (reader.failed() || calls.empty()) {
    why = fmt::format("the template is empty, truncated or has an unknown call after entry {}", calls.size());
    return Status::ProtocolError;
  }
  return Status::Ok;
}

}  // namespace rrto::server

#include "server/dispatcher.h"

#include "common/log.h"
#include "protocol/batch.h"

namespace rrto::server {
namespace {

template <typename... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};

}  // namespace

void encode_error_reply(CUresult status, uint32_t call_index, std::string_view message, std::vector<uint8_t>& meta) {
  meta.clear();
  ByteWriter w(meta);
  proto::encode_reply_header(w, {.status = static_cast<uint32_t>(status), .call_index = call_index});
  if (!message.empty()) {
    proto::ErrorResult error{.message = message};
    proto::encode_fields(w, error);
  }
}

CUresult Dispatcher::hello(Session& session, const proto::Hello& hello, BatchReply& reply) {
  if (session.admitted()) {
    reply.end_session = true;
    reply.end_reason = "a second Hello";
    refusal_ = "Hello is only the first call of a session";
    RRTO_WARN("server", "session {}: {}", session.id(), refusal_);
    return CUDA_ERROR_INVALID_VALUE;
  }
  refusal_.clear();
  if (CUresult r = admission_.admit(session, hello, refusal_)) {
    reply.end_session = true;
    reply.end_reason = "Hello refused: " + refusal_;
    return r;
  }
  const DeviceDescription& device = session.device()->description();
  proto::HelloResult result{
      .session_id = session.id(),
      .driver_version = device.driver_version,
      .device_name = device.name,
      .device_uuid = proto::Bytes(device.uuid),
      .total_memory = device.total_memory,
      .pci_domain = device.pci_domain,
      .pci_bus = device.pci_bus,
      .pci_device = device.pci_device,
      .attributes = proto::Bytes(reinterpret_cast<const uint8_t*>(device.attributes.data()),
                                 device.attributes.size() * sizeof(int32_t)),
  };
  set_result(result);
  return CUDA_SUCCESS;
}

CUresult Dispatcher::run_call(Session& session, const DecodedCall& decoded, BatchReply& reply) {
  result_.clear();
  refusal_.clear();
  if (!session.admitted() && !std::holds_alternative<proto::Hello>(decoded.call)) {
    reply.end_session = true;
    reply.end_reason = "a call before Hello";
    refusal_ = "the first call of a session must be Hello";
    RRTO_WARN("server", "session {} (peer {}): {}", session.id(), session.peer_address(), refusal_);
    return CUDA_ERROR_NOT_INITIALIZED;
  }
  Session& s = session;
  return std::visit(
      Overloaded{
          [&](const proto::Hello& c) { return hello(session, c, reply); },
          [&](const proto::MemAlloc& c) {
            proto::MemAllocResult result;
            CUresult r = s.mem_alloc(c.size, result.dptr);
            if (r == CUDA_SUCCESS) set_result(result);
            return r;
          },
          [&](const proto::MemFree& c) { return s.mem_free(c.dptr); },
          [&](const proto::MemGetInfo&) {
            proto::MemGetInfoResult result;
            CUresult r = s.mem_get_info(result.free, result.total);
            if (r == CUDA_SUCCESS) set_result(result);
            return r;
          },
          [&](const proto::MemcpyHtoD& c) { return s.memcpy_htod(c.dst, decoded.bulk, c.stream); },
          [&](const proto::MemcpyDtoH& c) { return s.memcpy_dtoh(c.src, c.size, c.stream, reply.bulk); },
          [&](const proto::MemcpyDtoD& c) { return s.memcpy_dtod(c.dst, c.src, c.size, c.stream); },
          [&](const proto::Memset& c) { return s.memset(c.dst, c.value, c.element_size, c.count, c.stream); },
          [&](const proto::ModuleLoad& c) { return s.module_load(c.module, decoded.bulk); },
          [&](const proto::ModuleUnload& c) { return s.module_unload(c.module); },
          [&](const proto::ModuleGetFunction& c) {
            return s.module_get_function(c.module, c.function, c.name, c.param_layout);
          },
          [&](const proto::ModuleGetGlobal& c) {
            proto::ModuleGetGlobalResult result;
            CUresult r = s.module_get_global(c.module, c.name, result.dptr, result.size);
            if (r == CUDA_SUCCESS) set_result(result);
            return r;
          },
          [&](const proto::FuncGetAttribute& c) {
            proto::FuncGetAttributeResult result;
            CUresult r = s.function_get_attribute(c.function, c.attribute, result.value);
            if (r == CUDA_SUCCESS) set_result(result);
            return r;
          },
          [&](const proto::Launch& c) {
            LaunchGeometry geometry{.grid = {c.grid[0], c.grid[1], c.grid[2]},
                                    .block = {c.block[0], c.block[1], c.block[2]},
                                    .shared_mem = c.shared_mem};
            return s.launch(c.function, geometry, c.stream, c.params);
          },
          [&](const proto::StreamCreate& c) { return s.stream_create(c.stream, c.flags, c.priority); },
          [&](const proto::StreamDestroy& c) { return s.stream_destroy(c.stream); },
          [&](const proto::StreamSynchronize& c) { return s.stream_synchronize(c.stream); },
          [&](const proto::StreamQuery& c) { return s.stream_query(c.stream); },
          [&](const proto::StreamWaitEvent& c) { return s.stream_wait_event(c.stream, c.event, c.flags); },
          [&](const proto::EventCreate& c) { return s.event_create(c.event, c.flags); },
          [&](const proto::EventDestroy& c) { return s.event_destroy(c.event); },
          [&](const proto::EventRecord& c) { return s.event_record(c.event, c.stream); },
          [&](const proto::EventSynchronize& c) { return s.event_synchronize(c.event); },
          [&](const proto::EventQuery& c) { return s.event_query(c.event); },
          [&](const proto::EventElapsedTime& c) {
            proto::EventElapsedTimeResult result;
            CUresult r = s.event_elapsed(c.start, c.end, result.milliseconds);
            if (r == CUDA_SUCCESS) set_result(result);
            return r;
          },
          [&](const proto::CtxSynchronize&) { return s.ctx_synchronize(); },
          [&](const proto::TemplateRegister& c) {
            std::string why;
            if (!ok(s.templates().add(c.tmpl, c.calls, why)))
              return s.fail(CUDA_ERROR_INVALID_VALUE, "template {} refused: {}", c.tmpl, why);
            return CUDA_SUCCESS;
          },
          [&](const proto::TemplateDrop& c) {
            s.templates().drop(c.tmpl);
            return CUDA_SUCCESS;
          },
          [&](const proto::ReplaySegment& c) { return replay(session, c, decoded.bulk, reply); },
      },
      decoded.call);
}

CUresult Dispatcher::replay(Session& session, const proto::ReplaySegment& segment, std::span<const uint8_t> inputs,
                            BatchReply& reply) {
  const TemplateStore::Template* t = session.templates().find(segment.tmpl);
  if (!t) return session.fail(CUDA_ERROR_INVALID_HANDLE, "replay of unknown template {}", segment.tmpl);
  if (segment.first > segment.last || segment.last >= t->calls.size())
    return session.fail(CUDA_ERROR_INVALID_VALUE, "replay of operators [{}, {}] of template {} ({} operators)",
                        segment.first, segment.last, segment.tmpl, t->calls.size());
  ByteReader deltas(segment.deltas);
  uint32_t delta_position = 0;
  std::span<const uint8_t> delta_params;
  auto next_delta = [&] {
    delta_position = UINT32_MAX;
    if (deltas.remaining() == 0) return true;
    if (!deltas.get(delta_position)) return false;
    delta_params = deltas.get_blob();
    return !deltas.failed();
  };
  if (!next_delta()) return session.fail(CUDA_ERROR_INVALID_VALUE, "malformed replay deltas");
  size_t consumed = 0;
  for (uint32_t i = segment.first; i <= segment.last; ++i) {
    DecodedCall call = t->calls[i];
    if (auto* htod = std::get_if<proto::MemcpyHtoD>(&call.call)) {
      if (htod->size > inputs.size() - consumed)
        return session.fail(CUDA_ERROR_INVALID_VALUE, "replay inputs end before operator {}", i);
      call.bulk = inputs.subspan(consumed, htod->size);
      consumed += htod->size;
    } else if (std::holds_alternative<proto::MemcpyDtoH>(call.call) && i != segment.last) {
      return session.fail(CUDA_ERROR_INVALID_VALUE, "replay segment continues past the copy back at {}", i);
    }
    if (i == delta_position) {
      auto* launch = std::get_if<proto::Launch>(&call.call);
      if (!launch || launch->params.size() != delta_params.size())
        return session.fail(CUDA_ERROR_INVALID_VALUE, "replay delta for operator {} does not fit it", i);
      launch->params = delta_params;
      if (!next_delta()) return session.fail(CUDA_ERROR_INVALID_VALUE, "malformed replay deltas");
    }
    if (CUresult r = run_call(session, call, reply)) return r;
  }
  if (delta_position != UINT32_MAX)
    return session.fail(CUDA_ERROR_INVALID_VALUE, "replay delta for operator {} outside the segment", delta_position);
  return CUDA_SUCCESS;
}

void Dispatcher::run(Session& session, std::span<const DecodedCall> calls, BatchReply& reply) {
  reply.bulk = {};
  reply.end_session = false;
  reply.end_reason.clear();
  reply.status = CUDA_SUCCESS;
  reply.call_index = 0;

  for (size_t i = 0; i < calls.size(); ++i) {
    reply.call_index = static_cast<uint32_t>(i);
    reply.status = run_call(session, calls[i], reply);
    if (reply.status != CUDA_SUCCESS) break;
  }
  // Copies may still read the message's buffers; they go away after this.
  if (CUresult r = session.finish_batch(); r != CUDA_SUCCESS && reply.status == CUDA_SUCCESS) {
    reply.status = r;
    result_.clear();
  }

  if (reply.status != CUDA_SUCCESS) {
    reply.bulk = {};
    const std::string& message = refusal_.empty() ? session.error_message() : refusal_;
    encode_error_reply(reply.status, reply.call_index, message, reply.meta);
    return;
  }
  reply.meta.clear();
  ByteWriter w(reply.meta);
  proto::encode_reply_header(w, {.status = CUDA_SUCCESS, .call_index = reply.call_index});
  w.put_bytes(result_.data(), result_.size());
}

}  // namespace rrto::server

#include "server/dispatcher.h"

#include <optional>

#include "common/log.h"
#include "protocol/batch.h"

namespace rrto::server {

void encode_error_reply(CUresult status, uint32_t call_index, std::string_view message, std::vector<uint8_t>& meta) {
  meta.clear();
  ByteWriter w(meta);
  proto::encode_reply_header(w, {.status = static_cast<uint32_t>(status), .call_index = call_index});
  if (!message.empty()) {
    proto::ErrorResult error{.message = message};
    proto::encode_fields(w, error);
  }
}

// What the server does for each protocol call, chosen by std::visit: a call
// added to the protocol does not compile until it has its overload here.
class Dispatcher::CallRunner {
 public:
  CallRunner(Dispatcher& dispatcher, Session& session, const DecodedCall& decoded, BatchReply& reply)
      : d_(dispatcher), s_(session), decoded_(decoded), reply_(reply) {}

  CUresult operator()(const proto::Hello& c) { return d_.hello(s_, c, reply_); }
  CUresult operator()(const proto::Authenticate& c) { return d_.authenticate(s_, c, reply_); }

  CUresult operator()(const proto::MemAlloc& c) {
    return with_result<proto::MemAllocResult>([&](auto& out) { return s_.mem_alloc(c.size, c.at, out.dptr); });
  }
  CUresult operator()(const proto::MemFree& c) { return s_.mem_free(c.dptr); }
  CUresult operator()(const proto::MemGetInfo&) {
    return with_result<proto::MemGetInfoResult>([&](auto& out) { return s_.mem_get_info(out.free, out.total); });
  }
  CUresult operator()(const proto::MemcpyHtoD& c) { return s_.memcpy_htod(c.dst, decoded_.bulk, c.stream); }
  CUresult operator()(const proto::MemcpyDtoH& c) { return s_.memcpy_dtoh(c.src, c.size, c.stream, reply_.bulk); }
  CUresult operator()(const proto::MemcpyDtoD& c) { return s_.memcpy_dtod(c.dst, c.src, c.size, c.stream); }
  CUresult operator()(const proto::Memset& c) {
    return s_.memset(c.dst, c.value, c.element_size, c.count, c.stream);
  }
  CUresult operator()(const proto::Memcpy2DHtoD& c) { return s_.memcpy_2d_htod(c, decoded_.bulk); }
  CUresult operator()(const proto::Memcpy2DDtoH& c) { return s_.memcpy_2d_dtoh(c, reply_.bulk); }
  CUresult operator()(const proto::Memcpy2DDtoD& c) { return s_.memcpy_2d_dtod(c); }
  CUresult operator()(const proto::Memset2D& c) { return s_.memset_2d(c); }

  CUresult operator()(const proto::ModuleLoad& c) { return s_.module_load(c.module, decoded_.bulk); }
  CUresult operator()(const proto::ModuleUnload& c) { return s_.module_unload(c.module); }
  CUresult operator()(const proto::ModuleGetFunction& c) {
    return s_.module_get_function(c.module, c.function, c.name, c.param_layout);
  }
  CUresult operator()(const proto::ModuleGetGlobal& c) {
    return with_result<proto::ModuleGetGlobalResult>(
        [&](auto& out) { return s_.module_get_global(c.module, c.name, out.dptr, out.size); });
  }
  CUresult operator()(const proto::FuncGetAttribute& c) {
    return with_result<proto::FuncGetAttributeResult>(
        [&](auto& out) { return s_.function_get_attribute(c.function, c.attribute, out.value); });
  }
  CUresult operator()(const proto::FuncSetAttribute& c) {
    return s_.function_set_attribute(c.function, c.attribute, c.value);
  }
  CUresult operator()(const proto::FuncSetCacheConfig& c) { return s_.function_set_cache_config(c.function, c.config); }
  CUresult operator()(const proto::TensorMapEncode& c) {
    std::array<uint8_t, proto::kTensorMapBytes> map{};
    return with_result<proto::TensorMapEncodeResult>([&](auto& out) {
      out.map = map;
      return s_.tensor_map_encode(c, map);
    });
  }
  CUresult operator()(const proto::Launch& c) {
    const LaunchGeometry geometry{.grid = {c.grid[0], c.grid[1], c.grid[2]},
                                  .block = {c.block[0], c.block[1], c.block[2]},
                                  .shared_mem = c.shared_mem,
                                  .attributes = {}};
    return s_.launch(c.function, geometry, c.stream, c.params);
  }
  CUresult operator()(const proto::LaunchEx& c) {
    const LaunchGeometry geometry{.grid = {c.grid[0], c.grid[1], c.grid[2]},
                                  .block = {c.block[0], c.block[1], c.block[2]},
                                  .shared_mem = c.shared_mem,
                                  .attributes = c.attributes};
    return s_.launch(c.function, geometry, c.stream, c.params);
  }

  CUresult operator()(const proto::StreamCreate& c) { return s_.stream_create(c.stream, c.flags, c.priority); }
  CUresult operator()(const proto::StreamDestroy& c) { return s_.stream_destroy(c.stream); }
  CUresult operator()(const proto::StreamSynchronize& c) { return s_.stream_synchronize(c.stream); }
  CUresult operator()(const proto::StreamQuery& c) { return s_.stream_query(c.stream); }
  CUresult operator()(const proto::StreamWaitEvent& c) { return s_.stream_wait_event(c.stream, c.event, c.flags); }

  CUresult operator()(const proto::EventCreate& c) { return s_.event_create(c.event, c.flags); }
  CUresult operator()(const proto::EventDestroy& c) { return s_.event_destroy(c.event); }
  CUresult operator()(const proto::EventRecord& c) { return s_.event_record(c.event, c.stream); }
  CUresult operator()(const proto::EventSynchronize& c) { return s_.event_synchronize(c.event); }
  CUresult operator()(const proto::EventQuery& c) { return s_.event_query(c.event); }
  CUresult operator()(const proto::EventElapsedTime& c) {
    return with_result<proto::EventElapsedTimeResult>(
        [&](auto& out) { return s_.event_elapsed(c.start, c.end, out.milliseconds); });
  }
  CUresult operator()(const proto::CtxSynchronize&) { return s_.ctx_synchronize(); }
  // The bulk was decompressed when the batch arrived (SessionManager::take_batch).
  CUresult operator()(const proto::CompressedBulk&) { return CUDA_SUCCESS; }

  CUresult operator()(const proto::TemplateRegister& c) {
    std::string why;
    if (!ok(s_.templates().add(c.tmpl, c.calls, why)))
      return s_.fail(CUDA_ERROR_INVALID_VALUE, "template {} refused: {}", c.tmpl, why);
    return CUDA_SUCCESS;
  }
  CUresult operator()(const proto::TemplateDrop& c) {
    s_.templates().drop(c.tmpl);
    return CUDA_SUCCESS;
  }
  CUresult operator()(const proto::ReplaySegment& c) { return d_.replay(s_, c, decoded_.bulk, reply_); }
  CUresult operator()(const proto::SpeculationEnd& c) { return d_.end_speculation(s_, c.kept); }

 private:
  // Runs `run(result)`; on success the result is the call's reply body.
  template <typename Result, typename Run>
  CUresult with_result(Run&& run) {
    Result result;
    const CUresult r = run(result);
    if (r == CUDA_SUCCESS) d_.set_result(reply_, result);
    return r;
  }

  Dispatcher& d_;
  Session& s_;
  const DecodedCall& decoded_;
  BatchReply& reply_;
};

CUresult Dispatcher::check_admission(Session& session, const proto::AnyCall& call, BatchReply& reply) {
  const bool is_hello = std::holds_alternative<proto::Hello>(call);
  const bool is_authenticate = std::holds_alternative<proto::Authenticate>(call);
  const char* wrong = nullptr;
  if (session.admitted()) {
    if (is_hello || is_authenticate) wrong = "the handshake is only the first calls of a session";
  } else if (handshake_.challenged()) {
    if (!is_authenticate) wrong = "the call after Hello must be Authenticate";
  } else if (!is_hello) {
    wrong = "the first call of a session must be Hello";
  }
  if (!wrong) return CUDA_SUCCESS;
  reply.end_session = true;
  reply.end_reason = session.admitted() ? "a second handshake" : "a call before the handshake ended";
  refusal_ = wrong;
  RRTO_WARN("server", "session {} (peer {}): {}", session.id(), session.peer_address(), refusal_);
  return session.admitted() ? CUDA_ERROR_INVALID_VALUE : CUDA_ERROR_NOT_INITIALIZED;
}

CUresult Dispatcher::hello(Session& session, const proto::Hello& hello, BatchReply& reply) {
  client_name_ = hello.client_name;
  client_flags_ = hello.flags;
  client_window_ = hello.window;
  proto::HelloChallenge challenge;
  if (hello.protocol_version == proto::kProtocolVersion && ok(handshake_.challenge(hello, challenge))) {
    set_result(reply, challenge);
    return CUDA_SUCCESS;
  }
  return admit(session, {.protocol_version = hello.protocol_version, .client_name = client_name_}, reply);
}

CUresult Dispatcher::authenticate(Session& session, const proto::Authenticate& authenticate, BatchReply& reply) {
  return admit(session,
               {.protocol_version = proto::kProtocolVersion,
                .client_name = client_name_,
                .authenticated = handshake_.verify(authenticate),
                .flags = client_flags_,
                .window = client_window_},
               reply);
}

CUresult Dispatcher::admit(Session& session, const Introduction& client, BatchReply& reply) {
  Welcome welcome;
  if (CUresult r = admission_.admit(session, client, welcome, refusal_)) {
    reply.end_session = true;
    reply.end_reason = "Hello refused: " + refusal_;
    return r;
  }
  proto::HelloResult result;
  result.redirect = welcome.redirect;
  result.server_devices = welcome.devices;
  result.server_sessions = welcome.sessions;
  result.server_free_memory = welcome.free_memory;
  result.peers = welcome.peers;
  if (session.admitted()) {
    const DeviceDescription& device = session.device()->description();
    result.session_id = session.id();
    result.window = session.window();
    result.driver_version = device.driver_version;
    result.device_name = device.name;
    result.device_uuid = proto::Bytes(device.uuid);
    result.total_memory = device.total_memory;
    result.pci_domain = device.pci_domain;
    result.pci_bus = device.pci_bus;
    result.pci_device = device.pci_device;
    result.attributes = proto::Bytes(reinterpret_cast<const uint8_t*>(device.attributes.data()),
                                     device.attributes.size() * sizeof(int32_t));
  } else {
    reply.end_session = true;
    reply.end_reason = welcome.redirect.empty() ? "its load told" : "sent to " + welcome.redirect;
  }
  set_result(reply, result);
  return CUDA_SUCCESS;
}

CUresult Dispatcher::run_call(Session& session, const DecodedCall& decoded, BatchReply& reply) {
  keep_only_header(reply);
  refusal_.clear();
  session.begin_call();
  if (CUresult r = check_admission(session, decoded.call, reply)) return r;
  if (session.sticky_error()) return session.refuse_after_failure();
  if (session.speculation().outstanding() &&
      (proto::is_operator(proto::call_op(decoded.call)) || std::holds_alternative<proto::ReplaySegment>(decoded.call)))
    return session.fail(CUDA_ERROR_INVALID_VALUE, "{} before the speculation of template {} was ended",
                        proto::call_op_name(proto::call_op(decoded.call)), session.speculation().tmpl());
  const CUresult r = std::visit(CallRunner(*this, session, decoded, reply), decoded.call);
  session.note_result(r);
  return r;
}

namespace {

// A template's upload: the bytes of the segment's inputs it takes.
std::optional<uint64_t> input_bytes(const proto::AnyCall& call) {
  if (const auto* htod = std::get_if<proto::MemcpyHtoD>(&call)) return bulk_bytes(*htod);
  if (const auto* rows = std::get_if<proto::Memcpy2DHtoD>(&call)) return bulk_bytes(*rows);
  return std::nullopt;
}

// A launch's parameter buffer; null for any other call.
proto::Bytes* launch_params(proto::AnyCall& call) {
  if (auto* launch = std::get_if<proto::Launch>(&call)) return &launch->params;
  if (auto* launch = std::get_if<proto::LaunchEx>(&call)) return &launch->params;
  return nullptr;
}

}  // namespace

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
    if (const std::optional<uint64_t> size = input_bytes(call.call)) {
      if (*size > inputs.size() - consumed)
        return session.fail(CUDA_ERROR_INVALID_VALUE, "replay inputs end before operator {}", i);
      call.bulk = inputs.subspan(consumed, *size);
      consumed += *size;
    } else if (proto::copies_to_host(proto::call_op(call.call)) && i != segment.last) {
      return session.fail(CUDA_ERROR_INVALID_VALUE, "replay segment continues past the copy back at {}", i);
    }
    if (i == delta_position) {
      proto::Bytes* params = launch_params(call.call);
      if (!params || params->size() != delta_params.size())
        return session.fail(CUDA_ERROR_INVALID_VALUE, "replay delta for operator {} does not fit it", i);
      *params = delta_params;
      if (!next_delta()) return session.fail(CUDA_ERROR_INVALID_VALUE, "malformed replay deltas");
    }
    if (CUresult r = run_call(session, call, reply)) return r;
  }
  if (delta_position != UINT32_MAX)
    return session.fail(CUDA_ERROR_INVALID_VALUE, "replay delta for operator {} outside the segment", delta_position);
  return segment.speculate_to > segment.last ? speculate(session, *t, segment, reply) : CUDA_SUCCESS;
}

CUresult Dispatcher::speculate(Session& session, const TemplateStore::Template& t,
                               const proto::ReplaySegment& segment, BatchReply& reply) {
  if (segment.speculate_to >= t.calls.size())
    return session.fail(CUDA_ERROR_INVALID_VALUE, "speculation to operator {} of template {} ({} operators)",
                        segment.speculate_to, segment.tmpl, t.calls.size());
  Speculation& spec = session.speculation();
  // The continuation may overwrite what the segment's copy back read.
  spec.reply_bytes().assign(reply.bulk.begin(), reply.bulk.end());
  reply.bulk = spec.reply_bytes();
  const auto calls = std::span(t.calls).subspan(segment.last + 1, segment.speculate_to - segment.last);
  proto::ReplaySegmentResult result;
  result.verdict = spec.begin(session, segment.tmpl, segment.last + 1, calls);
  result.save_ns = spec.save_ns();
  if (result.verdict == proto::kSpeculated) result.verdict = run_continuation(session, calls);
  if (result.verdict == proto::kSpeculated) result.outputs = spec.outputs();
  RRTO_DEBUG("server", "session {}: continuation of template {} to operator {}: {}", session.id(), segment.tmpl,
             segment.speculate_to, proto::speculation_verdict_text(result.verdict));
  session.begin_call();  // a failed continuation is no error of the segment
  set_result(reply, result);
  return CUDA_SUCCESS;
}

uint32_t Dispatcher::run_continuation(Session& session, std::span<const DecodedCall> calls) {
  Speculation& spec = session.speculation();
  spec.outputs().clear();
  BatchReply scratch;
  for (const DecodedCall& call : calls) {
    scratch.bulk = {};
    // Not run_call: a failure here is undone, never sticky.
    if (std::visit(CallRunner(*this, session, call, scratch), call.call) != CUDA_SUCCESS) {
      // Memory that cannot be put back is lost to the session, as a GPU
      // context is after a fault.
      if (spec.restore(session) != CUDA_SUCCESS) session.note_result(CUDA_ERROR_LAUNCH_FAILED);
      spec.end();
      return proto::kSpecFailed;
    }
    spec.outputs().insert(spec.outputs().end(), scratch.bulk.begin(), scratch.bulk.end());
  }
  return proto::kSpeculated;
}

CUresult Dispatcher::end_speculation(Session& session, uint32_t kept) {
  Speculation& spec = session.speculation();
  if (!spec.outstanding()) return CUDA_SUCCESS;
  if (kept > spec.count())
    return session.fail(CUDA_ERROR_INVALID_VALUE, "SpeculationEnd keeps {} operators of a continuation of {}", kept,
                        spec.count());
  if (kept == spec.count()) {
    spec.end();
    return CUDA_SUCCESS;
  }
  const CUresult restored = spec.restore(session);
  spec.end();  // the operators kept run again below, as any would
  if (restored) return session.fail(restored, "restoring the memory saved for a speculation failed");
  const TemplateStore::Template* t = session.templates().find(spec.tmpl());
  if (kept > 0 && (!t || spec.first() + kept > t->calls.size()))
    return session.fail(CUDA_ERROR_INVALID_VALUE, "template {} was dropped before its speculation ended", spec.tmpl());
  BatchReply scratch;
  for (uint32_t i = spec.first(); i < spec.first() + kept; ++i) {
    const DecodedCall& call = t->calls[i];
    if (proto::copies_to_host(proto::call_op(call.call))) continue;  // its bytes were delivered
    if (CUresult r = run_call(session, call, scratch)) return r;
  }
  return CUDA_SUCCESS;
}

void Dispatcher::run(Session& session, std::span<const DecodedCall> calls, BatchReply& reply) {
  keep_only_header(reply);
  reply.bulk = {};
  reply.end_session = false;
  reply.end_reason.clear();
  reply.status = CUDA_SUCCESS;
  reply.call_index = 0;

  for (size_t i = 0; i < calls.size(); ++i) {
    reply.call_index = static_cast<uint32_t>(i);
    // The reply's bytes stay where the call that produced them left them
    // (device memory, on the host backend): nothing may run after it.
    if (!reply.bulk.empty()) {
      reply.status = session.fail(CUDA_ERROR_INVALID_VALUE, "call {} comes after the copy back to the host", i);
      break;
    }
    reply.status = run_call(session, calls[i], reply);
    if (reply.status != CUDA_SUCCESS) break;
  }
  // Copies may still read the message's buffers; they go away after this.
  if (CUresult r = session.finish_batch(); r != CUDA_SUCCESS && reply.status == CUDA_SUCCESS) {
    session.note_result(r);
    reply.status = r;
  }

  if (reply.status != CUDA_SUCCESS) {
    reply.bulk = {};
    const std::string& message = refusal_.empty() ? session.error_message() : refusal_;
    encode_error_reply(reply.status, reply.call_index, message, reply.meta);
    return;
  }
  proto::write_reply_header(reply.meta.data(), {.status = CUDA_SUCCESS, .call_index = reply.call_index});
}

}  // namespace rrto::server

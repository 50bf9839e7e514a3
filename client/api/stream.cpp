// Streams, events and synchronisation. Streams and events are minted by the
// client; creating them is queued like any other asynchronous work.
#include "client/api/api.h"

using namespace rrto::client;
namespace proto = rrto::proto;

namespace rrto::client {

CUresult synchronize_stream(Client& c, uint64_t stream) {
  proto::StreamSynchronize call{.stream = stream};
  c.on_operator(call, op_of(call));
  const bool may_run = c.unsynced_streams.count(stream) || (stream == 0 && !c.unsynced_streams.empty());
  if (c.remote.queues_calls() && !c.remote.has_pending_work() && !may_run) return CUDA_SUCCESS;
  const CUresult r = c.remote.call(call);
  if (r == CUDA_SUCCESS) c.unsynced_streams.erase(stream);
  return r;
}

CUresult synchronize_context(Client& c) {
  proto::CtxSynchronize call;
  c.on_operator(call, op_of(call));
  if (c.remote.queues_calls() && !c.remote.has_pending_work() && c.unsynced_streams.empty()) return CUDA_SUCCESS;
  const CUresult r = c.remote.call(call);
  if (r == CUDA_SUCCESS) c.unsynced_streams.clear();
  return r;
}

}  // namespace rrto::client

namespace {

CUresult create_stream(Client& c, CUstream* out, unsigned flags, int priority) {
  if (!out) return CUDA_ERROR_INVALID_VALUE;
  if (!has_current_context()) return CUDA_ERROR_INVALID_CONTEXT;
  std::lock_guard lock(c.mutex);
  auto stream = std::make_unique<Stream>();
  stream->flags = flags;
  stream->priority = priority;
  const uint64_t h = c.streams.insert(std::move(stream));
  proto::StreamCreate call{.stream = h, .flags = flags, .priority = priority};
  const CUresult r = c.remote.defer(call);
  if (r != CUDA_SUCCESS) {
    c.streams.remove(h);
    return r;
  }
  *out = reinterpret_cast<CUstream>(h);
  return CUDA_SUCCESS;
}

// A stream argument names the legacy stream, a per-thread stream, or one of ours.
bool valid_stream(const Client& c, CUstream s) {
  const auto h = reinterpret_cast<uint64_t>(s);
  return h == 0 || s == CU_STREAM_LEGACY || s == CU_STREAM_PER_THREAD || c.streams.find(h);
}

CUresult stream_query(Client& c, CUstream s, bool per_thread) {
  std::lock_guard lock(c.mutex);
  if (!valid_stream(c, s)) return CUDA_ERROR_INVALID_HANDLE;
  const uint64_t id = stream_id(s, per_thread);
  if (c.remote.queues_calls() && !c.remote.has_pending_work() && !c.unsynced_streams.count(id))
    return CUDA_SUCCESS;
  proto::StreamQuery call{.stream = id};
  const CUresult r = c.remote.call(call);
  if (r == CUDA_SUCCESS) c.unsynced_streams.erase(id);
  return r;
}

CUresult stream_wait_event(Client& c, CUstream s, CUevent e, unsigned flags, bool per_thread) {
  std::lock_guard lock(c.mutex);
  if (!valid_stream(c, s) || !c.events.find(e)) return CUDA_ERROR_INVALID_HANDLE;
  const uint64_t id = stream_id(s, per_thread);
  proto::StreamWaitEvent call{.stream = id, .event = reinterpret_cast<uint64_t>(e), .flags = flags};
  c.on_operator(call, op_of(call));
  note_stream_work(c, id);
  return c.remote.defer(call);
}

}  // namespace

CUresult rrto::client::event_record(Client& c, CUevent e, CUstream s, bool per_thread) {
  std::lock_guard lock(c.mutex);
  Event* event = c.events.find(e);
  if (!event || !valid_stream(c, s)) return CUDA_ERROR_INVALID_HANDLE;
  const uint64_t id = stream_id(s, per_thread);
  proto::EventRecord call{.event = event->handle, .stream = id};
  c.on_operator(call, op_of(call));
  note_stream_work(c, id);
  return c.remote.defer(call);
}

CUresult api::cuStreamCreate(Client& c, CUstream* stream, unsigned int flags) {
  return create_stream(c, stream, flags, 0);
}

CUresult api::cuStreamCreateWithPriority(Client& c, CUstream* stream, unsigned int flags, int priority) {
  return create_stream(c, stream, flags, priority);
}

CUresult api::cuStreamDestroy_v2(Client& c, CUstream s) {
  std::lock_guard lock(c.mutex);
  const auto h = reinterpret_cast<uint64_t>(s);
  if (!c.streams.remove(h)) return CUDA_ERROR_INVALID_HANDLE;
  proto::StreamDestroy call{.stream = h};
  return c.remote.defer(call);
}

CUresult api::cuStreamSynchronize(Client& c, bool per_thread, CUstream s) {
  std::lock_guard lock(c.mutex);
  if (!valid_stream(c, s)) return CUDA_ERROR_INVALID_HANDLE;
  return synchronize_stream(c, stream_id(s, per_thread));
}

CUresult api::cuStreamQuery(Client& c, bool per_thread, CUstream s) {
  return stream_query(c, s, per_thread);
}

CUresult api::cuStreamWaitEvent(Client& c, bool per_thread, CUstream s, CUevent e, unsigned int flags) {
  return stream_wait_event(c, s, e, flags, per_thread);
}

CUresult api::cuEventCreate(Client& c, CUevent* out, unsigned int flags) {
  if (!out) return CUDA_ERROR_INVALID_VALUE;
  if (!has_current_context()) return CUDA_ERROR_INVALID_CONTEXT;
  std::lock_guard lock(c.mutex);
  auto event = std::make_unique<Event>();
  event->flags = flags;
  const uint64_t h = c.events.insert(std::move(event));
  proto::EventCreate call{.event = h, .flags = flags};
  const CUresult r = c.remote.defer(call);
  if (r != CUDA_SUCCESS) {
    c.events.remove(h);
    return r;
  }
  *out = reinterpret_cast<CUevent>(h);
  return CUDA_SUCCESS;
}

CUresult api::cuEventDestroy_v2(Client& c, CUevent e) {
  std::lock_guard lock(c.mutex);
  const auto h = reinterpret_cast<uint64_t>(e);
  if (!c.events.remove(h)) return CUDA_ERROR_INVALID_HANDLE;
  proto::EventDestroy call{.event = h};
  return c.remote.defer(call);
}

CUresult api::cuEventRecord(Client& c, bool per_thread, CUevent e, CUstream s) {
  return event_record(c, e, s, per_thread);
}

CUresult api::cuEventSynchronize(Client& c, CUevent e) {
  std::lock_guard lock(c.mutex);
  if (!c.events.find(e)) return CUDA_ERROR_INVALID_HANDLE;
  if (c.remote.queues_calls() && !c.remote.has_pending_work() && c.unsynced_streams.empty()) return CUDA_SUCCESS;
  proto::EventSynchronize call{.event = reinterpret_cast<uint64_t>(e)};
  return c.remote.call(call);
}

CUresult api::cuEventQuery(Client& c, CUevent e) {
  std::lock_guard lock(c.mutex);
  if (!c.events.find(e)) return CUDA_ERROR_INVALID_HANDLE;
  if (c.remote.queues_calls() && !c.remote.has_pending_work() && c.unsynced_streams.empty()) return CUDA_SUCCESS;
  proto::EventQuery call{.event = reinterpret_cast<uint64_t>(e)};
  return c.remote.call(call);
}

static CUresult elapsed_time(Client& c, float* ms, CUevent start, CUevent end) {
  if (!ms) return CUDA_ERROR_INVALID_VALUE;
  std::lock_guard lock(c.mutex);
  if (!c.events.find(start) || !c.events.find(end)) return CUDA_ERROR_INVALID_HANDLE;
  proto::EventElapsedTime call{.start = reinterpret_cast<uint64_t>(start), .end = reinterpret_cast<uint64_t>(end)};
  proto::EventElapsedTimeResult result;
  const CUresult r = c.remote.call(call, &result);
  if (r == CUDA_SUCCESS) *ms = result.milliseconds;
  return r;
}

CUresult api::cuEventElapsedTime(Client& c, float* ms, CUevent start, CUevent end) {
  return elapsed_time(c, ms, start, end);
}

CUresult api::cuEventElapsedTime_v2(Client& c, float* ms, CUevent start, CUevent end) {
  return elapsed_time(c, ms, start, end);
}

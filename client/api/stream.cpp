// Streams, events and synchronisation. Streams and events are minted by the
// client; creating them is queued like any other asynchronous work.
#include "client/api/api.h"

using namespace rrto::client;
namespace proto = rrto::proto;

namespace rrto::client {

namespace {

// Replay mode queues a synchronisation instead of waiting for it: nothing
// the host can see depends on it, since copies to host memory are never
// queued (they are answered at once) and kernels reach host memory only
// through mapped ranges, which are downloaded right after. The server still runs it, in order, with the next call that
// reaches it, whose answer then carries any error of the work before it.
// (client/README.md, "Synchronisation")
template <typename Call>
CUresult wait_or_queue(ClientState& state, Call& call) {
  if (state.remote.mode() != Mode::Replay) return state.remote.call(call);
  // Mapped host memory the device may have written is downloaded right
  // after, and that download carries the synchronisation: nothing is elided.
  if (!state.mapped.device_may_have_written())
    transfer_stats().syncs_elided.fetch_add(1, std::memory_order_relaxed);
  return state.remote.defer(call);
}

}  // namespace

CUresult synchronize_stream(ClientState& state, uint64_t stream) {
  if (const CUresult r = state.graphs.check_wait(stream); r != CUDA_SUCCESS) return r;
  proto::StreamSynchronize call{.stream = stream};
  if (state.on_operator(call)) return after_synchronisation(state, stream);
  const bool may_run = state.unsynced_streams.count(stream) || (stream == 0 && !state.unsynced_streams.empty());
  if (state.remote.queues_calls() && !state.remote.has_pending_work() && !may_run) return CUDA_SUCCESS;
  const CUresult r = wait_or_queue(state, call);
  if (r != CUDA_SUCCESS) return r;
  state.unsynced_streams.erase(stream);
  return after_synchronisation(state, stream);
}

CUresult synchronize_context(ClientState& state) {
  if (const CUresult r = state.graphs.check_wait(kEveryStream); r != CUDA_SUCCESS) return r;
  proto::CtxSynchronize call;
  if (state.on_operator(call)) return after_synchronisation(state, 0);
  if (state.remote.queues_calls() && !state.remote.has_pending_work() && state.unsynced_streams.empty()) return CUDA_SUCCESS;
  const CUresult r = wait_or_queue(state, call);
  if (r != CUDA_SUCCESS) return r;
  state.unsynced_streams.clear();
  return after_synchronisation(state, 0);
}

}  // namespace rrto::client

namespace {

CUresult create_stream(Client& c, CUstream* out, unsigned flags, int priority) {
  if (!out) return CUDA_ERROR_INVALID_VALUE;
  if (!has_current_context()) return CUDA_ERROR_INVALID_CONTEXT;
  auto state = c.lock();
  auto stream = std::make_unique<Stream>();
  stream->flags = flags;
  stream->priority = priority;
  const uint64_t h = state->streams.insert(std::move(stream));
  proto::StreamCreate call{.stream = h, .flags = flags, .priority = priority};
  const CUresult r = state->remote.defer(call);
  if (r != CUDA_SUCCESS) {
    state->streams.remove(h);
    return r;
  }
  *out = reinterpret_cast<CUstream>(h);
  return CUDA_SUCCESS;
}

CUresult stream_query(Client& c, CUstream s, bool per_thread) {
  auto state = c.lock();
  if (!valid_stream(*state, s)) return CUDA_ERROR_INVALID_HANDLE;
  const uint64_t id = stream_id(s, per_thread);
  if (const CUresult r = state->graphs.check_wait(id); r != CUDA_SUCCESS) return r;
  if (state->remote.queues_calls() && !state->remote.has_pending_work() && !state->unsynced_streams.count(id))
    return CUDA_SUCCESS;
  proto::StreamQuery call{.stream = id};
  const CUresult r = state->remote.call(call);
  if (r != CUDA_SUCCESS) return r;
  state->unsynced_streams.erase(id);
  return after_synchronisation(*state, id);
}

CUresult stream_wait_event(Client& c, CUstream s, CUevent e, unsigned flags, bool per_thread) {
  auto state = c.lock();
  if (!valid_stream(*state, s) || !state->events.find(e)) return CUDA_ERROR_INVALID_HANDLE;
  const uint64_t id = stream_id(s, per_thread);
  proto::StreamWaitEvent call{.stream = id, .event = reinterpret_cast<uint64_t>(e), .flags = flags};
  if (CUresult r = CUDA_SUCCESS; taken_by_capture(*state, call, true, r)) return r;
  if (state->on_operator(call)) return CUDA_SUCCESS;
  note_stream_work(*state, id);
  return state->remote.defer(call);
}

// A host function runs in the calling thread once the stream's earlier work
// is done, which is what it may observe: it sees host memory only, and a
// copy to host memory is answered before it returns. Later work on the
// stream is queued only after it returns, so none of it starts before.
CUresult finish_stream_work(Client& c, CUstream s, bool per_thread) {
  auto state = c.lock();
  if (!valid_stream(*state, s)) return CUDA_ERROR_INVALID_HANDLE;
  return synchronize_stream(*state, stream_id(s, per_thread));
}

}  // namespace

CUresult rrto::client::event_record(Client& c, CUevent e, CUstream s, bool per_thread) {
  auto state = c.lock();
  Event* event = state->events.find(e);
  if (!event || !valid_stream(*state, s)) return CUDA_ERROR_INVALID_HANDLE;
  const uint64_t id = stream_id(s, per_thread);
  proto::EventRecord call{.event = event->handle, .stream = id};
  if (CUresult r = CUDA_SUCCESS; taken_by_capture(*state, call, true, r)) return r;
  if (state->on_operator(call)) return CUDA_SUCCESS;
  note_stream_work(*state, id);
  return state->remote.defer(call);
}

CUresult api::cuStreamCreate(Client& c, CUstream* stream, unsigned int flags) {
  return create_stream(c, stream, flags, 0);
}

CUresult api::cuStreamCreateWithPriority(Client& c, CUstream* stream, unsigned int flags, int priority) {
  return create_stream(c, stream, flags, priority);
}

CUresult api::cuStreamDestroy_v2(Client& c, CUstream s) {
  auto state = c.lock();
  const auto h = reinterpret_cast<uint64_t>(s);
  if (!state->streams.remove(h)) return CUDA_ERROR_INVALID_HANDLE;
  proto::StreamDestroy call{.stream = h};
  return state->remote.defer(call);
}

CUresult api::cuStreamSynchronize(Client& c, bool per_thread, CUstream s) {
  auto state = c.lock();
  if (!valid_stream(*state, s)) return CUDA_ERROR_INVALID_HANDLE;
  return synchronize_stream(*state, stream_id(s, per_thread));
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
  auto state = c.lock();
  auto event = std::make_unique<Event>();
  event->flags = flags;
  const uint64_t h = state->events.insert(std::move(event));
  proto::EventCreate call{.event = h, .flags = flags};
  const CUresult r = state->remote.defer(call);
  if (r != CUDA_SUCCESS) {
    state->events.remove(h);
    return r;
  }
  *out = reinterpret_cast<CUevent>(h);
  return CUDA_SUCCESS;
}

CUresult api::cuEventDestroy_v2(Client& c, CUevent e) {
  auto state = c.lock();
  const auto h = reinterpret_cast<uint64_t>(e);
  if (!state->events.remove(h)) return CUDA_ERROR_INVALID_HANDLE;
  proto::EventDestroy call{.event = h};
  return state->remote.defer(call);
}

CUresult api::cuEventRecord(Client& c, bool per_thread, CUevent e, CUstream s) {
  return event_record(c, e, s, per_thread);
}

CUresult api::cuEventSynchronize(Client& c, CUevent e) {
  auto state = c.lock();
  if (!state->events.find(e)) return CUDA_ERROR_INVALID_HANDLE;
  if (const CUresult r = state->graphs.check_event_wait(reinterpret_cast<uint64_t>(e)); r != CUDA_SUCCESS) return r;
  if (state->remote.queues_calls() && !state->remote.has_pending_work() && state->unsynced_streams.empty()) return CUDA_SUCCESS;
  proto::EventSynchronize call{.event = reinterpret_cast<uint64_t>(e)};
  const CUresult r = wait_or_queue(*state, call);
  return r == CUDA_SUCCESS ? after_synchronisation(*state, 0) : r;
}

CUresult api::cuEventQuery(Client& c, CUevent e) {
  auto state = c.lock();
  if (!state->events.find(e)) return CUDA_ERROR_INVALID_HANDLE;
  if (const CUresult r = state->graphs.check_event_wait(reinterpret_cast<uint64_t>(e)); r != CUDA_SUCCESS) return r;
  if (state->remote.queues_calls() && !state->remote.has_pending_work() && state->unsynced_streams.empty()) return CUDA_SUCCESS;
  proto::EventQuery call{.event = reinterpret_cast<uint64_t>(e)};
  const CUresult r = state->remote.call(call);
  return r == CUDA_SUCCESS ? after_synchronisation(*state, 0) : r;
}

static CUresult elapsed_time(Client& c, float* ms, CUevent start, CUevent end) {
  if (!ms) return CUDA_ERROR_INVALID_VALUE;
  auto state = c.lock();
  if (!state->events.find(start) || !state->events.find(end)) return CUDA_ERROR_INVALID_HANDLE;
  proto::EventElapsedTime call{.start = reinterpret_cast<uint64_t>(start), .end = reinterpret_cast<uint64_t>(end)};
  proto::EventElapsedTimeResult result;
  const CUresult r = state->remote.call(call, &result);
  if (r == CUDA_SUCCESS) *ms = result.milliseconds;
  return r;
}

CUresult api::cuEventElapsedTime(Client& c, float* ms, CUevent start, CUevent end) {
  return elapsed_time(c, ms, start, end);
}

CUresult api::cuEventElapsedTime_v2(Client& c, float* ms, CUevent start, CUevent end) {
  return elapsed_time(c, ms, start, end);
}

CUresult api::cuLaunchHostFunc(Client& c, bool per_thread, CUstream s, CUhostFn fn, void* user_data) {
  if (!fn) return CUDA_ERROR_INVALID_VALUE;
  if (!has_current_context()) return CUDA_ERROR_INVALID_CONTEXT;
  const CUresult r = finish_stream_work(c, s, per_thread);
  if (r == CUDA_SUCCESS) fn(user_data);
  return r;
}

// Unlike a host function, a callback runs whatever became of the stream's
// work, and is told (the stream's error, or CUDA_SUCCESS).
CUresult api::cuStreamAddCallback(Client& c, bool per_thread, CUstream s, CUstreamCallback callback, void* user_data,
                                  unsigned int flags) {
  if (!callback || flags != 0) return CUDA_ERROR_INVALID_VALUE;
  if (!has_current_context()) return CUDA_ERROR_INVALID_CONTEXT;
  const CUresult r = finish_stream_work(c, s, per_thread);
  // Refused, not run: a bad stream, or one a capture holds.
  if (r == CUDA_ERROR_INVALID_HANDLE || r == CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED ||
      r == CUDA_ERROR_STREAM_CAPTURE_INVALIDATED)
    return r;
  callback(s, r, user_data);
  return r;
}

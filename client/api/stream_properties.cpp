// What a program (or cudart on its behalf) asks about a stream: priority,
// flags, device, id, context, capture state. All answered locally: the client
// minted the streams and knows what they were created with, and keeps the
// captures (client/graphs.h).
#include "client/api/api.h"

using namespace rrto::client;

namespace {

struct StreamFacts {
  unsigned flags = 0;
  int priority = 0;
};

// The default streams (legacy, per-thread, null) have default flags and priority.
CUresult stream_facts(Client& c, CUstream s, StreamFacts& out) {
  const auto h = reinterpret_cast<uint64_t>(s);
  if (h == 0 || s == CU_STREAM_LEGACY || s == CU_STREAM_PER_THREAD) return CUDA_SUCCESS;
  auto state = c.lock();
  const Stream* stream = state->streams.find(h);
  if (!stream) return CUDA_ERROR_INVALID_HANDLE;
  out = {stream->flags, stream->priority};
  return CUDA_SUCCESS;
}

// Answers a query about a valid stream: `*out = pick(facts)`.
template <typename T, typename Pick>
CUresult answer(Client& c, CUstream s, T* out, Pick pick) {
  if (!out) return CUDA_ERROR_INVALID_VALUE;
  StreamFacts facts;
  if (const CUresult r = stream_facts(c, s, facts); r != CUDA_SUCCESS) return r;
  *out = pick(facts);
  return CUDA_SUCCESS;
}

// Streams are not tied to a context here; a stream belongs to whichever
// context is current (they all are the session's one device).
CUresult get_context(Client& c, CUstream s, CUcontext* ctx) {
  if (!ctx) return CUDA_ERROR_INVALID_VALUE;
  StreamFacts facts;
  if (const CUresult r = stream_facts(c, s, facts); r != CUDA_SUCCESS) return r;
  if (has_current_context()) {
    *ctx = reinterpret_cast<CUcontext>(context_stack().back());
    return CUDA_SUCCESS;
  }
  auto state = c.lock();
  if (!state->primary_context) return CUDA_ERROR_INVALID_CONTEXT;
  *ctx = reinterpret_cast<CUcontext>(state->primary_context);
  return CUDA_SUCCESS;
}

// A capture's status and id, as Graphs keeps them (client/graphs.h).
CUresult is_capturing(Client& c, CUstream s, bool per_thread, CUstreamCaptureStatus* status, cuuint64_t* id) {
  if (!status) return CUDA_ERROR_INVALID_VALUE;
  StreamFacts facts;
  if (const CUresult r = stream_facts(c, s, facts); r != CUDA_SUCCESS) return r;
  auto state = c.lock();
  const Graphs::Capture* capture = state->graphs.capture_of(stream_id(s, per_thread));
  *status = !capture ? CU_STREAM_CAPTURE_STATUS_NONE
            : capture->invalidated ? CU_STREAM_CAPTURE_STATUS_INVALIDATED
                                   : CU_STREAM_CAPTURE_STATUS_ACTIVE;
  if (id && capture) *id = capture->id;
  return CUDA_SUCCESS;
}

// The graph being captured and its open ends are not handed out (no node
// API is offered): graph, dependencies and edges read as none.
CUresult capture_info(Client& c, CUstream s, bool per_thread, CUstreamCaptureStatus* status, cuuint64_t* id,
                      CUgraph* graph, const CUgraphNode** dependencies, const CUgraphEdgeData** edge_data,
                      size_t* count) {
  if (id) *id = 0;
  if (const CUresult r = is_capturing(c, s, per_thread, status, id); r != CUDA_SUCCESS) return r;
  if (graph) *graph = nullptr;
  if (dependencies) *dependencies = nullptr;
  if (edge_data) *edge_data = nullptr;
  if (count) *count = 0;
  return CUDA_SUCCESS;
}


}  // namespace

CUresult api::cuStreamGetPriority(Client& c, bool per_thread, CUstream s, int* priority) {
  return answer(c, s, priority, [](const StreamFacts& f) { return f.priority; });
}

CUresult api::cuStreamGetFlags(Client& c, bool per_thread, CUstream s, unsigned int* flags) {
  return answer(c, s, flags, [](const StreamFacts& f) { return f.flags; });
}

CUresult api::cuStreamGetDevice(Client& c, bool per_thread, CUstream s, CUdevice* device) {
  return answer(c, s, device, [](const StreamFacts&) { return CUdevice{0}; });
}

CUresult api::cuStreamGetId(Client& c, bool per_thread, CUstream s, unsigned long long* id) {
  // The id the server knows the stream by: unique per stream and per
  // thread's default stream.
  return answer(c, s, id, [&](const StreamFacts&) { return static_cast<unsigned long long>(stream_id(s, per_thread)); });
}

CUresult api::cuStreamGetCtx(Client& c, bool per_thread, CUstream s, CUcontext* ctx) {
  return get_context(c, s, ctx);
}

CUresult api::cuStreamGetCtx_v2(Client& c, bool per_thread, CUstream s, CUcontext* ctx, CUgreenCtx* green_ctx) {
  if (green_ctx) *green_ctx = nullptr;
  return get_context(c, s, ctx);
}

CUresult api::cuStreamIsCapturing(Client& c, bool per_thread, CUstream s, CUstreamCaptureStatus* status) {
  return is_capturing(c, s, per_thread, status, nullptr);
}

CUresult api::cuStreamGetCaptureInfo(Client& c, bool per_thread, CUstream s, CUstreamCaptureStatus* status,
                                     cuuint64_t* id) {
  return capture_info(c, s, per_thread, status, id, nullptr, nullptr, nullptr, nullptr);
}

CUresult api::cuStreamGetCaptureInfo_v2(Client& c, bool per_thread, CUstream s, CUstreamCaptureStatus* status,
                                        cuuint64_t* id, CUgraph* graph, const CUgraphNode** dependencies,
                                        size_t* count) {
  return capture_info(c, s, per_thread, status, id, graph, dependencies, nullptr, count);
}

CUresult api::cuStreamGetCaptureInfo_v3(Client& c, bool per_thread, CUstream s, CUstreamCaptureStatus* status,
                                        cuuint64_t* id, CUgraph* graph, const CUgraphNode** dependencies,
                                        const CUgraphEdgeData** edge_data, size_t* count) {
  return capture_info(c, s, per_thread, status, id, graph, dependencies, edge_data, count);
}

// Decides which calls a capture forbids this thread (Graphs::take).
CUresult api::cuThreadExchangeStreamCaptureMode(Client& c, CUstreamCaptureMode* mode) {
  if (!mode || (*mode != CU_STREAM_CAPTURE_MODE_GLOBAL && *mode != CU_STREAM_CAPTURE_MODE_THREAD_LOCAL &&
                *mode != CU_STREAM_CAPTURE_MODE_RELAXED))
    return CUDA_ERROR_INVALID_VALUE;
  *mode = Graphs::exchange_mode(*mode);
  return CUDA_SUCCESS;
}

// CU_EVENT_RECORD_EXTERNAL only means something inside a graph capture.
CUresult api::cuEventRecordWithFlags(Client& c, bool per_thread, CUevent e, CUstream s, unsigned int flags) {
  if (flags & ~CU_EVENT_RECORD_EXTERNAL) return CUDA_ERROR_INVALID_VALUE;
  return event_record(c, e, s, per_thread);
}

#include "client/graphs.h"

#include <fmt/format.h>

#include "common/limits.h"

namespace rrto::client {

namespace {

thread_local CUstreamCaptureMode t_capture_mode = CU_STREAM_CAPTURE_MODE_GLOBAL;

}  // namespace

GraphNode& GraphNode::operator=(const GraphNode& other) {
  call = other.call;
  params = other.params;
  host_src = other.host_src;
  host_dst = other.host_dst;
  changed = other.changed;
  param_pointers.clear();
  if (auto* launch = std::get_if<proto::Launch>(&call)) launch->params = params;
  return *this;
}

Graphs::Capture* Graphs::find(uint64_t stream) {
  auto it = captures_.find(stream);
  return it == captures_.end() ? nullptr : &it->second;
}

const Graphs::Capture* Graphs::capture_of(uint64_t stream) const {
  auto it = captures_.find(stream);
  return it == captures_.end() ? nullptr : &it->second;
}

CUresult Graphs::begin_capture(uint64_t stream, CUstreamCaptureMode mode) {
  if (mode != CU_STREAM_CAPTURE_MODE_GLOBAL && mode != CU_STREAM_CAPTURE_MODE_THREAD_LOCAL &&
      mode != CU_STREAM_CAPTURE_MODE_RELAXED)
    return CUDA_ERROR_INVALID_VALUE;
  // The legacy stream synchronises with every other: it cannot capture.
  if (stream == 0) return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
  if (captures_.count(stream)) return CUDA_ERROR_ILLEGAL_STATE;
  Capture& capture = captures_[stream];
  capture.id = next_capture_id_++;
  capture.mode = mode;
  capture.thread = std::this_thread::get_id();
  capture.graph = std::make_unique<Graph>();
  capture.graph->stream = stream;
  return CUDA_SUCCESS;
}

CUresult Graphs::end_capture(uint64_t stream, CUgraph* graph) {
  auto it = captures_.find(stream);
  if (it == captures_.end()) return CUDA_ERROR_ILLEGAL_STATE;
  Capture& capture = it->second;
  if (capture.mode != CU_STREAM_CAPTURE_MODE_RELAXED && capture.thread != std::this_thread::get_id())
    return CUDA_ERROR_STREAM_CAPTURE_WRONG_THREAD;
  *graph = nullptr;
  if (capture.invalidated) {
    captures_.erase(it);
    return CUDA_ERROR_STREAM_CAPTURE_INVALIDATED;
  }
  const uint64_t handle = graphs.insert(std::move(capture.graph));
  captures_.erase(it);
  *graph = reinterpret_cast<CUgraph>(handle);
  return CUDA_SUCCESS;
}

bool Graphs::recorded_in_capture(uint64_t event) const {
  for (const auto& [stream, capture] : captures_)
    if (!capture.invalidated && capture.events.count(event)) return true;
  return false;
}

// CUDA's rule: a capture not begun in relaxed mode forbids potentially
// unsafe calls to every thread (global mode) or to its own thread
// (thread-local mode), unless the thread has set relaxed mode for itself.
bool Graphs::unsafe_forbidden() const {
  if (t_capture_mode == CU_STREAM_CAPTURE_MODE_RELAXED) return false;
  const std::thread::id self = std::this_thread::get_id();
  for (const auto& [stream, capture] : captures_) {
    if (capture.invalidated) continue;
    if (capture.mode == CU_STREAM_CAPTURE_MODE_GLOBAL) return true;
    if (capture.mode == CU_STREAM_CAPTURE_MODE_THREAD_LOCAL && capture.thread == self) return true;
  }
  return false;
}

void Graphs::invalidate_visible() {
  const std::thread::id self = std::this_thread::get_id();
  for (auto& [stream, capture] : captures_)
    if (capture.mode == CU_STREAM_CAPTURE_MODE_GLOBAL || capture.thread == self) capture.invalidated = true;
}

// A synchronous call, or work on the legacy stream (which would wait for
// the capturing streams), while a capture forbids it.
CaptureVerdict Graphs::check_unsafe(uint64_t stream, bool async, CUresult& result) {
  if ((async && stream != 0) || !unsafe_forbidden()) return CaptureVerdict::NotCaptured;
  invalidate_visible();
  result = async ? CUDA_ERROR_STREAM_CAPTURE_IMPLICIT : CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
  return CaptureVerdict::Refused;
}

CaptureVerdict Graphs::refuse(Capture& capture, CUresult error, CUresult& result) {
  capture.invalidated = true;
  result = error;
  return CaptureVerdict::Refused;
}

// Another stream joining a capture through an event recorded in it: one
// stream per capture is what is offered.
CaptureVerdict Graphs::refuse_join(uint64_t event, CUresult& result) {
  for (auto& [stream, capture] : captures_)
    if (capture.events.count(event)) capture.invalidated = true;
  result = CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
  return CaptureVerdict::Refused;
}

CUresult Graphs::check_event_wait(uint64_t event) {
  if (!capturing() || !recorded_in_capture(event)) return CUDA_SUCCESS;
  for (auto& [stream, capture] : captures_)
    if (capture.events.count(event)) capture.invalidated = true;
  return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
}

CUresult Graphs::check_wait(uint64_t stream) {
  if (!capturing()) return CUDA_SUCCESS;
  bool refused = false;
  for (auto& [captured, capture] : captures_) {
    if (stream != kEveryStream && captured != stream) continue;
    capture.invalidated = true;
    refused = true;
  }
  if (!refused && stream == 0 && unsafe_forbidden()) {
    invalidate_visible();
    refused = true;
  }
  return refused ? CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED : CUDA_SUCCESS;
}

CUstreamCaptureMode Graphs::exchange_mode(CUstreamCaptureMode mode) {
  const CUstreamCaptureMode previous = t_capture_mode;
  t_capture_mode = mode;
  return previous;
}

// Node handles: graph slot above bit 36, position + 1 in bits 4-35, the kind below.
uint64_t Graphs::node_handle(const Graph& graph, size_t position) {
  return ((graph.handle >> 4) << 36) | (static_cast<uint64_t>(position + 1) << 4) |
         static_cast<uint64_t>(HandleKind::GraphNode);
}

GraphNode* Graphs::find_node(uint64_t handle) const {
  if ((handle & 0xf) != static_cast<uint64_t>(HandleKind::GraphNode)) return nullptr;
  Graph* graph = graphs.find(((handle >> 36) << 4) | static_cast<uint64_t>(HandleKind::Graph));
  const uint64_t position = (handle >> 4) & 0xffffffffu;
  if (!graph || position == 0 || position > graph->nodes.size()) return nullptr;
  return &graph->nodes[position - 1];
}

uint32_t Graphs::claim_template() {
  if (registered_ >= limits::kGraphTemplates) return 0;
  ++registered_;
  return limits::kGraphTemplateIds + (next_template_++ % limits::kGraphTemplateIds);
}

std::string Graphs::stats_json() const {
  return fmt::format(R"("graphs":{{"launches":{},"replayed":{},"registrations":{}}})", counts.launches, counts.replayed,
                     counts.registrations);
}

void Graphs::templates_dropped() {
  execs.for_each([](GraphExec& exec) { exec.registered = false; });
}

}  // namespace rrto::client

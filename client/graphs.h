// CUDA graphs made by stream capture: what a capture records, the graphs and
// executable graphs the program holds, and which calls a capture forbids.
//
// While a stream captures, the operators issued on it (launches, async
// copies, memsets, event records and waits) are recorded as the protocol
// calls they would have been, not run. An executable graph is such a list of
// calls; in replay mode it is a server template (client/README.md, "CUDA
// graphs").
#pragma once

#include <cuda.h>

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "client/handles.h"
#include "common/limits.h"
#include "protocol/any_call.h"

namespace rrto::client {

// One recorded operator. A launch's parameter buffer lives in `params`
// (the call's span points into it, also in copies of the node).
struct GraphNode {
  proto::AnyCall call;
  std::vector<uint8_t> params;
  const void* host_src = nullptr;  // MemcpyHtoD: read at each launch
  void* host_dst = nullptr;        // MemcpyDtoH: written when the launch's bytes arrive
  // Launch arguments differ from those the exec's template was registered with.
  bool changed = false;
  // cuGraphKernelNodeGetParams' answer: each argument in `params` (not copied).
  std::vector<void*> param_pointers;

  GraphNode() = default;
  GraphNode(const GraphNode& other) { *this = other; }
  GraphNode(GraphNode&&) = default;
  GraphNode& operator=(const GraphNode& other);
  GraphNode& operator=(GraphNode&&) = default;

  proto::CallOp op() const { return proto::call_op(call); }
};

template <typename Call>
GraphNode make_graph_node(const Call& call, const void* host_src, void* host_dst) {
  GraphNode node;
  Call copy = call;
  if constexpr (requires { copy.bulk_offset; }) copy.bulk_offset = 0;
  if constexpr (requires { copy.params; }) {
    node.params.assign(call.params.begin(), call.params.end());
    copy.params = node.params;
  }
  node.call = copy;
  node.host_src = host_src;
  node.host_dst = host_dst;
  return node;
}

struct Graph {
  uint64_t handle = 0;
  uint64_t stream = 0;  // the stream it was captured on
  std::vector<GraphNode> nodes;
};

struct GraphExec {
  uint64_t handle = 0;
  uint64_t stream = 0;  // the stream its nodes name
  std::vector<GraphNode> nodes;
  // Replay mode: its server template, 0 when it has none (launched call by
  // call); `registered` is false once the server dropped it.
  uint32_t tmpl = 0;
  bool registered = false;
  uint64_t registered_stream = 0;
  std::vector<uint8_t> deltas;  // reused by each launch
};

// Whether an operator went into a capture.
enum class CaptureVerdict {
  NotCaptured,  // run it as usual
  Recorded,     // recorded in the capture: return CUDA_SUCCESS
  Refused,      // forbidden during a capture: return the error given
};

// What cuStreamSynchronize, cuCtxSynchronize and the like name.
inline constexpr uint64_t kEveryStream = ~uint64_t{0};

class Graphs {
 public:
  struct Capture {
    uint64_t id = 0;
    CUstreamCaptureMode mode = CU_STREAM_CAPTURE_MODE_GLOBAL;
    std::thread::id thread;
    bool invalidated = false;
    std::unique_ptr<Graph> graph;
    std::set<uint64_t> events;  // recorded in the capture
  };

  // Whether any stream captures: the one test an operator pays otherwise.
  bool capturing() const { return !captures_.empty(); }
  const Capture* capture_of(uint64_t stream) const;

  CUresult begin_capture(uint64_t stream, CUstreamCaptureMode mode);
  // Ends the capture; the graph's handle goes to `graph` (null when the
  // capture was invalidated).
  CUresult end_capture(uint64_t stream, CUgraph* graph);

  // An operator about to be issued on `call.stream`; `async` whether the
  // program called the asynchronous form. Refused: `result` is the error.
  template <typename Call>
  CaptureVerdict take(const Call& call, bool async, const void* host_src, void* host_dst, CUresult& result) {
    if (!capturing()) return CaptureVerdict::NotCaptured;
    Capture* capture = find(call.stream);
    if (!capture) {
      if constexpr (requires { call.event; call.flags; }) {
        if (recorded_in_capture(call.event)) return refuse_join(call.event, result);
      }
      return check_unsafe(call.stream, async, result);
    }
    if (capture->invalidated) {
      result = CUDA_ERROR_STREAM_CAPTURE_INVALIDATED;
      return CaptureVerdict::Refused;
    }
    if (!async) return refuse(*capture, CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, result);
    note_event(*capture, call);
    capture->graph->nodes.push_back(make_graph_node(call, host_src, host_dst));
    return CaptureVerdict::Recorded;
  }

  // A synchronisation or query of `stream` (kEveryStream: the context), or
  // of an event: CUDA_SUCCESS when it may go on, else the error, and the
  // captures it would break are invalidated.
  CUresult check_wait(uint64_t stream);
  CUresult check_event_wait(uint64_t event);

  // cuThreadExchangeStreamCaptureMode: the calling thread's mode.
  static CUstreamCaptureMode exchange_mode(CUstreamCaptureMode mode);

  HandleTable<Graph, HandleKind::Graph> graphs;
  HandleTable<GraphExec, HandleKind::GraphExec> execs;

  // A node's handle: its graph and its position (a captured graph's nodes
  // never change), and the node a handle names, or nullptr.
  static uint64_t node_handle(const Graph& graph, size_t position);
  static size_t node_position(uint64_t handle) { return ((handle >> 4) & 0xffffffffu) - 1; }
  GraphNode* find_node(uint64_t handle) const;

  // Replay mode: a fresh template id for an exec, from the range the
  // matcher never uses, or 0 when the session holds as many as it may.
  uint32_t claim_template();
  void release_template() { --registered_; }
  // The server dropped every template (memory freed, module unloaded).
  void templates_dropped();

  // For RRTO_STATS: graph launches, those sent as ReplaySegments, and the
  // templates registered for them (re-registrations included).
  struct Counts {
    uint64_t launches = 0, replayed = 0, registrations = 0;
  };
  Counts counts;
  // `"graphs":{...}` for the stats line.
  std::string stats_json() const;

 private:
  Capture* find(uint64_t stream);
  bool recorded_in_capture(uint64_t event) const;
  template <typename Call>
  static void note_event(Capture& capture, const Call& call) {
    if constexpr (std::is_same_v<Call, proto::EventRecord>) capture.events.insert(call.event);
  }
  // Whether this thread may not make potentially unsafe calls now.
  bool unsafe_forbidden() const;
  void invalidate_visible();
  CaptureVerdict check_unsafe(uint64_t stream, bool async, CUresult& result);
  CaptureVerdict refuse(Capture& capture, CUresult error, CUresult& result);
  CaptureVerdict refuse_join(uint64_t event, CUresult& result);

  std::map<uint64_t, Capture> captures_;  // by stream id
  uint64_t next_capture_id_ = 1;
  uint32_t next_template_ = 0;
  uint32_t registered_ = 0;
};

}  // namespace rrto::client

// CUDA graphs: stream capture, instantiation, launch and update.
// (client/README.md, "CUDA graphs"). In replay mode an executable graph is a
// server template: each launch is one ReplaySegment per copy to the host it
// holds (usually none), queued like any other work.
#include <type_traits>

#include "client/api/api.h"
#include "common/limits.h"

using namespace rrto::client;
namespace proto = rrto::proto;
namespace limits = rrto::limits;

namespace {

// Calls `f` with a copy of the node's call as it runs on `stream`.
template <typename F>
void visit_on_stream(const GraphNode& node, uint64_t stream, F&& f) {
  std::visit(
      [&](auto call) {
        if constexpr (requires { call.stream; }) call.stream = stream;
        f(call);
      },
      node.call);
}

// Work left on `stream` after a launch: none when the graph ends with a copy
// to the host, which the server made after everything before it.
void note_launch(ClientState& state, const GraphExec& exec, uint64_t stream) {
  if (exec.nodes.empty()) return;
  if (exec.nodes.back().op() == proto::CallOp::MemcpyDtoH)
    state.unsynced_streams.erase(stream);
  else
    note_stream_work(state, stream);
}

CUresult copy_back(ClientState& state, proto::MemcpyDtoH& call, void* dst) {
  const CUresult r = state.remote.call_for_bulk(call, dst, call.size);
  if (r == CUDA_SUCCESS && state.remote.last_bulk_received() != call.size) return CUDA_ERROR_UNKNOWN;
  return r;
}

// rpc and async mode, or a graph without a template: each node goes as the
// call it was, host sources read now.
CUresult launch_call_by_call(ClientState& state, const GraphExec& exec, uint64_t stream) {
  for (const GraphNode& node : exec.nodes) {
    CUresult r = CUDA_SUCCESS;
    visit_on_stream(node, stream, [&](auto call) {
      using Call = decltype(call);
      if constexpr (std::is_same_v<Call, proto::MemcpyHtoD>) {
        call.bulk_offset = state.remote.add_bulk_copy(node.host_src, call.size);
        r = state.remote.defer(call);
      } else if constexpr (std::is_same_v<Call, proto::MemcpyDtoH>) {
        r = copy_back(state, call, node.host_dst);
      } else {
        r = state.remote.defer(call);
      }
    });
    if (r != CUDA_SUCCESS) return r;
  }
  note_launch(state, exec, stream);
  return CUDA_SUCCESS;
}

void give_up_template(ClientState& state, GraphExec& exec) {
  state.graphs.release_template();
  exec.tmpl = 0;
  exec.registered = false;
}

// Queues the exec's nodes as its template, naming `stream`; a graph too big
// for a template is launched call by call instead.
CUresult register_exec(ClientState& state, GraphExec& exec, uint64_t stream) {
  proto::BatchWriter calls;
  for (const GraphNode& node : exec.nodes) visit_on_stream(node, stream, [&](const auto& call) { calls.add(call); });
  if (exec.nodes.size() > limits::kTemplateOperators || calls.size() > limits::kTemplateBytes) {
    give_up_template(state, exec);
    return CUDA_SUCCESS;
  }
  proto::TemplateRegister registration{.tmpl = exec.tmpl, .calls = calls.bytes()};
  if (const CUresult r = state.remote.defer(registration); r != CUDA_SUCCESS) return r;
  exec.registered = true;
  exec.registered_stream = stream;
  ++state.graphs.counts.registrations;
  for (GraphNode& node : exec.nodes) node.changed = false;
  return CUDA_SUCCESS;
}

// Template operators [first, last] as one ReplaySegment: the host sources
// of its uploads as inputs, the changed launch arguments as deltas. One
// that ends in a copy to the host is sent now and its bytes land there.
CUresult replay_range(ClientState& state, GraphExec& exec, uint32_t first, uint32_t last) {
  Remote& remote = state.remote;
  const uint64_t input_offset = remote.mark().bulk_bytes;
  exec.deltas.clear();
  rrto::ByteWriter deltas(exec.deltas);
  for (uint32_t i = first; i <= last; ++i) {
    const GraphNode& node = exec.nodes[i];
    if (const auto* upload = std::get_if<proto::MemcpyHtoD>(&node.call)) {
      remote.add_bulk_copy(node.host_src, upload->size);
    } else if (node.changed) {
      deltas.put<uint32_t>(i);
      deltas.put_blob(node.params);
    }
  }
  proto::ReplaySegment segment{
      .tmpl = exec.tmpl, .first = first, .last = last, .input_offset = input_offset, .deltas = exec.deltas};
  const auto* download = std::get_if<proto::MemcpyDtoH>(&exec.nodes[last].call);
  if (!download) return remote.defer(segment);
  const CUresult r = remote.call_for_bulk(segment, exec.nodes[last].host_dst, download->size);
  if (r == CUDA_SUCCESS && remote.last_bulk_received() != download->size) return CUDA_ERROR_UNKNOWN;
  return r;
}

// Copies to the host end a segment: only a segment's last operator may be one.
CUresult launch_replayed(ClientState& state, GraphExec& exec, uint64_t stream) {
  state.replayer.interrupt(state.remote);
  if (!exec.registered || exec.registered_stream != stream) {
    if (const CUresult r = register_exec(state, exec, stream); r != CUDA_SUCCESS) return r;
    if (!exec.tmpl) return launch_call_by_call(state, exec, stream);
  }
  const auto count = static_cast<uint32_t>(exec.nodes.size());
  uint32_t first = 0;
  for (uint32_t i = 0; i < count; ++i) {
    if (exec.nodes[i].op() != proto::CallOp::MemcpyDtoH) continue;
    if (const CUresult r = replay_range(state, exec, first, i); r != CUDA_SUCCESS) return r;
    first = i + 1;
  }
  if (first < count)
    if (const CUresult r = replay_range(state, exec, first, count - 1); r != CUDA_SUCCESS) return r;
  note_launch(state, exec, stream);
  ++state.graphs.counts.replayed;
  return CUDA_SUCCESS;
}

CUresult instantiate(Client& c, CUgraphExec* out, CUgraph g) {
  if (!out) return CUDA_ERROR_INVALID_VALUE;
  auto state = c.lock();
  const Graph* graph = state->graphs.graphs.find(g);
  if (!graph) return CUDA_ERROR_INVALID_VALUE;
  auto owned = std::make_unique<GraphExec>();
  GraphExec& exec = *owned;
  exec.nodes = graph->nodes;
  exec.stream = graph->stream;
  const uint64_t handle = state->graphs.execs.insert(std::move(owned));
  if (state->remote.mode() == Mode::Replay && !exec.nodes.empty()) {
    exec.tmpl = state->graphs.claim_template();
    if (exec.tmpl)
      if (const CUresult r = register_exec(*state, exec, exec.stream); r != CUDA_SUCCESS) return r;
  }
  *out = reinterpret_cast<CUgraphExec>(handle);
  return CUDA_SUCCESS;
}

// What a node runs on the device, launch arguments left out.
std::vector<uint8_t> device_side(const GraphNode& node) {
  proto::BatchWriter writer;
  std::visit(
      [&](auto call) {
        if constexpr (requires { call.params; }) call.params = {};
        writer.add(call);
      },
      node.call);
  return {writer.bytes().begin(), writer.bytes().end()};
}

// The nodes must be of the same kinds, in the same order, and launches take
// arguments of the same size. Changed arguments travel as deltas; any other
// change (a kernel, a geometry, a copy's device range) re-registers the
// template before the next launch.
CUgraphExecUpdateResult update_exec(GraphExec& exec, const Graph& graph) {
  if (graph.nodes.size() != exec.nodes.size()) return CU_GRAPH_EXEC_UPDATE_ERROR_TOPOLOGY_CHANGED;
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    if (graph.nodes[i].op() != exec.nodes[i].op()) return CU_GRAPH_EXEC_UPDATE_ERROR_NODE_TYPE_CHANGED;
    if (graph.nodes[i].params.size() != exec.nodes[i].params.size()) return CU_GRAPH_EXEC_UPDATE_ERROR_PARAMETERS_CHANGED;
  }
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    GraphNode& node = exec.nodes[i];
    const GraphNode& fresh = graph.nodes[i];
    if (device_side(node) != device_side(fresh)) exec.registered = false;
    const bool changed = node.changed || node.params != fresh.params;
    node = fresh;
    node.changed = changed;
  }
  return CU_GRAPH_EXEC_UPDATE_SUCCESS;
}

CUresult exec_update(Client& c, CUgraphExec hexec, CUgraph hgraph, CUgraphExecUpdateResult& result) {
  auto state = c.lock();
  GraphExec* exec = state->graphs.execs.find(hexec);
  const Graph* graph = state->graphs.graphs.find(hgraph);
  if (!exec || !graph) return CUDA_ERROR_INVALID_VALUE;
  result = update_exec(*exec, *graph);
  return result == CU_GRAPH_EXEC_UPDATE_SUCCESS ? CUDA_SUCCESS : CUDA_ERROR_GRAPH_EXEC_UPDATE_FAILURE;
}

}  // namespace

CUresult api::cuStreamBeginCapture(Client& c, bool per_thread, CUstream s) {
  return api::cuStreamBeginCapture_v2(c, per_thread, s, CU_STREAM_CAPTURE_MODE_GLOBAL);
}

CUresult api::cuStreamBeginCapture_v2(Client& c, bool per_thread, CUstream s, CUstreamCaptureMode mode) {
  auto state = c.lock();
  if (!valid_stream(*state, s)) return CUDA_ERROR_INVALID_HANDLE;
  return state->graphs.begin_capture(stream_id(s, per_thread), mode);
}

CUresult api::cuStreamEndCapture(Client& c, bool per_thread, CUstream s, CUgraph* graph) {
  if (!graph) return CUDA_ERROR_INVALID_VALUE;
  auto state = c.lock();
  if (!valid_stream(*state, s)) return CUDA_ERROR_INVALID_HANDLE;
  return state->graphs.end_capture(stream_id(s, per_thread), graph);
}

CUresult api::cuGraphInstantiate(Client& c, CUgraphExec* exec, CUgraph graph, CUgraphNode* error_node,
                                 char* log, size_t log_size) {
  return api::cuGraphInstantiate_v2(c, exec, graph, error_node, log, log_size);
}

CUresult api::cuGraphInstantiate_v2(Client& c, CUgraphExec* exec, CUgraph graph, CUgraphNode* error_node,
                                    char* log, size_t log_size) {
  if (error_node) *error_node = nullptr;
  if (log && log_size) log[0] = '\0';
  return instantiate(c, exec, graph);
}

// The flags (auto-free, upload, priorities) change nothing a program sees here.
CUresult api::cuGraphInstantiateWithFlags(Client& c, CUgraphExec* exec, CUgraph graph, unsigned long long flags) {
  if (flags & CUDA_GRAPH_INSTANTIATE_FLAG_DEVICE_LAUNCH)
    RRTO_NOT_SUPPORTED(cuGraphInstantiateWithFlags, "CUDA_GRAPH_INSTANTIATE_FLAG_DEVICE_LAUNCH");
  return instantiate(c, exec, graph);
}

CUresult api::cuGraphInstantiateWithParams(Client& c, bool per_thread, CUgraphExec* exec, CUgraph graph,
                                           CUDA_GRAPH_INSTANTIATE_PARAMS* params) {
  if (!params) return CUDA_ERROR_INVALID_VALUE;
  params->hErrNode_out = nullptr;
  const CUresult r = api::cuGraphInstantiateWithFlags(c, exec, graph, params->flags);
  params->result_out = r == CUDA_SUCCESS ? CUDA_GRAPH_INSTANTIATE_SUCCESS : CUDA_GRAPH_INSTANTIATE_ERROR;
  return r;
}

// Templates are registered at instantiation already.
CUresult api::cuGraphUpload(Client& c, bool per_thread, CUgraphExec exec, CUstream s) {
  auto state = c.lock();
  if (!state->graphs.execs.find(exec)) return CUDA_ERROR_INVALID_VALUE;
  return valid_stream(*state, s) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}

CUresult api::cuGraphLaunch(Client& c, bool per_thread, CUgraphExec hexec, CUstream s) {
  auto state = c.lock();
  GraphExec* exec = state->graphs.execs.find(hexec);
  if (!exec) return CUDA_ERROR_INVALID_VALUE;
  if (!valid_stream(*state, s)) return CUDA_ERROR_INVALID_HANDLE;
  const uint64_t stream = stream_id(s, per_thread);
  // A graph launched into a capture (a child graph) is not offered.
  if (const CUresult r = state->graphs.check_wait(stream); r != CUDA_SUCCESS) return r;
  ++state->graphs.counts.launches;
  if (state->remote.mode() == Mode::Replay && exec->tmpl) return launch_replayed(*state, *exec, stream);
  return launch_call_by_call(*state, *exec, stream);
}

CUresult api::cuGraphExecUpdate(Client& c, CUgraphExec exec, CUgraph graph, CUgraphNode* error_node,
                                CUgraphExecUpdateResult* result) {
  if (!error_node || !result) return CUDA_ERROR_INVALID_VALUE;
  *error_node = nullptr;
  return exec_update(c, exec, graph, *result);
}

CUresult api::cuGraphExecUpdate_v2(Client& c, CUgraphExec exec, CUgraph graph, CUgraphExecUpdateResultInfo* info) {
  if (!info) return CUDA_ERROR_INVALID_VALUE;
  info->errorNode = nullptr;
  info->errorFromNode = nullptr;
  return exec_update(c, exec, graph, info->result);
}

CUresult api::cuGraphExecDestroy(Client& c, CUgraphExec hexec) {
  auto state = c.lock();
  std::unique_ptr<GraphExec> exec = state->graphs.execs.remove(reinterpret_cast<uint64_t>(hexec));
  if (!exec) return CUDA_ERROR_INVALID_VALUE;
  if (!exec->tmpl) return CUDA_SUCCESS;
  state->graphs.release_template();
  if (!exec->registered) return CUDA_SUCCESS;  // the server dropped it already
  proto::TemplateDrop drop{.tmpl = exec->tmpl};
  return state->remote.defer(drop);
}

// Nodes [first, first + total) of `graph` into `out` (room for `*count`),
// the rest of `out` null; `*count` becomes `total`.
static void list_nodes(const Graph& graph, size_t first, size_t total, CUgraphNode* out, size_t* count) {
  if (out)
    for (size_t i = 0; i < *count; ++i)
      out[i] = i < total ? reinterpret_cast<CUgraphNode>(Graphs::node_handle(graph, first + i)) : nullptr;
  *count = total;
}

CUresult api::cuGraphGetNodes(Client& c, CUgraph g, CUgraphNode* nodes, size_t* count) {
  if (!count) return CUDA_ERROR_INVALID_VALUE;
  auto state = c.lock();
  const Graph* graph = state->graphs.graphs.find(g);
  if (!graph) return CUDA_ERROR_INVALID_VALUE;
  list_nodes(*graph, 0, graph->nodes.size(), nodes, count);
  return CUDA_SUCCESS;
}

// A capture over one stream is a chain: its first node is the only root.
CUresult api::cuGraphGetRootNodes(Client& c, CUgraph g, CUgraphNode* nodes, size_t* count) {
  if (!count) return CUDA_ERROR_INVALID_VALUE;
  auto state = c.lock();
  const Graph* graph = state->graphs.graphs.find(g);
  if (!graph) return CUDA_ERROR_INVALID_VALUE;
  list_nodes(*graph, 0, graph->nodes.empty() ? 0 : 1, nodes, count);
  return CUDA_SUCCESS;
}

CUresult api::cuGraphNodeGetType(Client& c, CUgraphNode handle, CUgraphNodeType* type) {
  if (!type) return CUDA_ERROR_INVALID_VALUE;
  auto state = c.lock();
  const GraphNode* node = state->graphs.find_node(reinterpret_cast<uint64_t>(handle));
  if (!node) return CUDA_ERROR_INVALID_VALUE;
  switch (node->op()) {
    case proto::CallOp::Launch: *type = CU_GRAPH_NODE_TYPE_KERNEL; break;
    case proto::CallOp::Memset: *type = CU_GRAPH_NODE_TYPE_MEMSET; break;
    case proto::CallOp::EventRecord: *type = CU_GRAPH_NODE_TYPE_EVENT_RECORD; break;
    case proto::CallOp::StreamWaitEvent: *type = CU_GRAPH_NODE_TYPE_WAIT_EVENT; break;
    default: *type = CU_GRAPH_NODE_TYPE_MEMCPY;
  }
  return CUDA_SUCCESS;
}

// A kernel node's launch, its arguments pointed at in the node's own buffer.
static CUresult kernel_node_params(Client& c, CUgraphNode handle, CUDA_KERNEL_NODE_PARAMS& out) {
  auto state = c.lock();
  GraphNode* node = state->graphs.find_node(reinterpret_cast<uint64_t>(handle));
  const auto* launch = node ? std::get_if<proto::Launch>(&node->call) : nullptr;
  const Function* function = launch ? state->functions.find(launch->function) : nullptr;
  if (!function) return CUDA_ERROR_INVALID_VALUE;
  node->param_pointers.clear();
  for (const auto& param : function->kernel->params) node->param_pointers.push_back(node->params.data() + param.offset);
  out = {};
  // As for a launch through a CUkernel (which is the same handle here): cudart
  // finds its kernel by `kern`.
  out.kern = reinterpret_cast<CUkernel>(launch->function);
  out.gridDimX = launch->grid[0], out.gridDimY = launch->grid[1], out.gridDimZ = launch->grid[2];
  out.blockDimX = launch->block[0], out.blockDimY = launch->block[1], out.blockDimZ = launch->block[2];
  out.sharedMemBytes = launch->shared_mem;
  out.kernelParams = node->param_pointers.data();
  return CUDA_SUCCESS;
}

// Sets a kernel node of an executable graph: new arguments of the same size
// travel as deltas; another kernel, geometry or size re-registers the template.
static CUresult set_kernel_node(Client& c, CUgraphExec hexec, CUgraphNode hnode, const CUDA_KERNEL_NODE_PARAMS& p) {
  auto state = c.lock();
  GraphExec* exec = state->graphs.execs.find(hexec);
  const auto handle = reinterpret_cast<uint64_t>(hnode);
  const size_t position = Graphs::node_position(handle);
  if (!exec || !state->graphs.find_node(handle) || position >= exec->nodes.size()) return CUDA_ERROR_INVALID_VALUE;
  GraphNode& node = exec->nodes[position];
  auto* launch = std::get_if<proto::Launch>(&node.call);
  const Function* function = state->functions.find(p.func ? reinterpret_cast<uint64_t>(p.func)
                                                          : reinterpret_cast<uint64_t>(p.kern));
  if (!launch || !function) return CUDA_ERROR_INVALID_VALUE;
  uint8_t* packed = state->launch_params.data();
  const long size = pack_params(*function->kernel, p.kernelParams, p.extra, packed);
  if (size < 0) return CUDA_ERROR_INVALID_VALUE;
  const proto::Launch fresh{.function = function->handle,
                            .grid = {p.gridDimX, p.gridDimY, p.gridDimZ},
                            .block = {p.blockDimX, p.blockDimY, p.blockDimZ},
                            .shared_mem = p.sharedMemBytes,
                            .stream = launch->stream,
                            .params = {packed, static_cast<size_t>(size)}};
  GraphNode updated = make_graph_node(fresh, nullptr, nullptr);
  if (device_side(updated) != device_side(node) || updated.params.size() != node.params.size())
    exec->registered = false;
  updated.changed = node.changed || updated.params != node.params;
  node = std::move(updated);
  return CUDA_SUCCESS;
}

static CUDA_KERNEL_NODE_PARAMS from_v1(const CUDA_KERNEL_NODE_PARAMS_v1& p) {
  return {p.func, p.gridDimX, p.gridDimY, p.gridDimZ, p.blockDimX, p.blockDimY, p.blockDimZ, p.sharedMemBytes,
          p.kernelParams, p.extra, nullptr, nullptr};
}

CUresult api::cuGraphKernelNodeGetParams_v2(Client& c, CUgraphNode node, CUDA_KERNEL_NODE_PARAMS* params) {
  if (!params) return CUDA_ERROR_INVALID_VALUE;
  return kernel_node_params(c, node, *params);
}

CUresult api::cuGraphKernelNodeGetParams(Client& c, CUgraphNode node, CUDA_KERNEL_NODE_PARAMS_v1* params) {
  if (!params) return CUDA_ERROR_INVALID_VALUE;
  CUDA_KERNEL_NODE_PARAMS full{};
  const CUresult r = kernel_node_params(c, node, full);
  if (r == CUDA_SUCCESS)
    *params = {reinterpret_cast<CUfunction>(full.kern), full.gridDimX, full.gridDimY, full.gridDimZ, full.blockDimX, full.blockDimY,
               full.blockDimZ, full.sharedMemBytes, full.kernelParams, full.extra};
  return r;
}

CUresult api::cuGraphExecKernelNodeSetParams_v2(Client& c, CUgraphExec exec, CUgraphNode node,
                                                const CUDA_KERNEL_NODE_PARAMS* params) {
  if (!params) return CUDA_ERROR_INVALID_VALUE;
  return set_kernel_node(c, exec, node, *params);
}

CUresult api::cuGraphExecKernelNodeSetParams(Client& c, CUgraphExec exec, CUgraphNode node,
                                             const CUDA_KERNEL_NODE_PARAMS_v1* params) {
  if (!params) return CUDA_ERROR_INVALID_VALUE;
  return set_kernel_node(c, exec, node, from_v1(*params));
}

CUresult api::cuGraphDestroy(Client& c, CUgraph graph) {
  auto state = c.lock();
  return state->graphs.graphs.remove(reinterpret_cast<uint64_t>(graph)) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

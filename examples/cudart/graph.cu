// graph: a small network captured once into a CUDA graph on a stream of its
// own, instantiated and launched many times, the way torch.cuda.CUDAGraph
// does: inputs uploaded outside the graph (pinned memory), inside it
// (pageable memory), and a graph that also copies its output back; then a
// re-capture with another scale and cudaGraphExecUpdate. Every output is
// checked exactly against the CPU; capture queries are checked during and
// after a capture, and a synchronisation during a capture must break it.
// Runs unchanged on a GPU or through RRTO's libcuda.so.1.
//
// graph [--iterations N]   (default 12 launches of each graph)
// Exit status: 0 every check passed, 1 a check failed, 2 an unexpected CUDA error.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "examples/cudart/cudart_util.h"
#include "graph_kernels.cu"

namespace {

using examples::check_rt;

constexpr int kN = 1000;
constexpr unsigned kBlock = 128;
constexpr unsigned kBlocks = (kN + kBlock - 1) / kBlock;
constexpr int kUpdateIterations = 4;

#define RT(call)                               \
  do {                                         \
    if (!check_rt((call), #call)) return 2;    \
  } while (0)

bool expect(bool condition, const std::string& what) {
  if (!condition) std::fprintf(stderr, "%s: FAILED: %s\n", examples::program, what.c_str());
  return condition;
}

struct Buffers {
  int* in = nullptr;       // device: the network's input
  int* in_copy = nullptr;  // device: a copy of it, made inside the graph
  int* hidden = nullptr;
  int* out = nullptr;
  int* pinned_in = nullptr;   // host, page-locked
  int* pinned_out = nullptr;  // host, page-locked
  std::vector<int> pageable_in = std::vector<int>(kN);
  std::vector<int> out_host = std::vector<int>(kN);
};

int reference(int x, int i, int scale) {
  const int y = x * scale + i;
  return (y * y) % graph_example::kModulus + x;
}

void make_input(int* in, int iteration) {
  for (int i = 0; i < kN; ++i) in[i] = (i * 7 + iteration * 13) % 97;
}

bool outputs_exact(const int* in, const int* out, int scale, const char* what, int iteration) {
  for (int i = 0; i < kN; ++i)
    if (out[i] != reference(in[i], i, scale))
      return expect(false, std::string(what) + ", iteration " + std::to_string(iteration) + ": out[" +
                               std::to_string(i) + "] = " + std::to_string(out[i]) + ", expected " +
                               std::to_string(reference(in[i], i, scale)));
  return true;
}

// The network, issued on `stream`: a memset, a copy on the device, three kernels.
int issue_network(Buffers& b, cudaStream_t stream, int scale) {
  RT(cudaMemsetAsync(b.out, 0, kN * sizeof(int), stream));
  RT(cudaMemcpyAsync(b.in_copy, b.in, kN * sizeof(int), cudaMemcpyDeviceToDevice, stream));
  graph_example::scale_add<<<kBlocks, kBlock, 0, stream>>>(b.in, b.hidden, kN, scale);
  graph_example::square_mod<<<kBlocks, kBlock, 0, stream>>>(b.hidden, kN);
  graph_example::add<<<kBlocks, kBlock, 0, stream>>>(b.hidden, b.in_copy, b.out, kN);
  RT(cudaGetLastError());
  return 0;
}

enum class Upload { Outside, InsidePageable, InsideWithCopyBack };

// The captured graph holds the memset, the copies and the three kernels, in
// the order they were issued.
int check_nodes(cudaGraph_t graph, Upload upload) {
  std::vector<cudaGraphNodeType> expected = {cudaGraphNodeTypeMemset, cudaGraphNodeTypeMemcpy,
                                             cudaGraphNodeTypeKernel, cudaGraphNodeTypeKernel,
                                             cudaGraphNodeTypeKernel};
  if (upload != Upload::Outside) expected.insert(expected.begin(), cudaGraphNodeTypeMemcpy);
  if (upload == Upload::InsideWithCopyBack) expected.push_back(cudaGraphNodeTypeMemcpy);
  size_t count = 0;
  RT(cudaGraphGetNodes(graph, nullptr, &count));
  if (!expect(count == expected.size(), "cudaGraphGetNodes counts " + std::to_string(count) + " nodes")) return 1;
  std::vector<cudaGraphNode_t> nodes(count);
  RT(cudaGraphGetNodes(graph, nodes.data(), &count));
  for (size_t i = 0; i < count; ++i) {
    cudaGraphNodeType type{};
    RT(cudaGraphNodeGetType(nodes[i], &type));
    if (!expect(type == expected[i], "node " + std::to_string(i) + "'s type")) return 1;
  }
  return 0;
}

// Captures the network (and the copies `upload` says) into a graph.
int capture(Buffers& b, cudaStream_t stream, int scale, Upload upload, cudaGraph_t* graph) {
  RT(cudaStreamBeginCapture(stream, cudaStreamCaptureModeGlobal));
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  unsigned long long id = 0;
  RT(cudaStreamIsCapturing(stream, &status));
  if (!expect(status == cudaStreamCaptureStatusActive, "cudaStreamIsCapturing during a capture")) return 1;
  RT(cudaStreamGetCaptureInfo(stream, &status, &id));
  if (!expect(status == cudaStreamCaptureStatusActive && id != 0, "cudaStreamGetCaptureInfo during a capture"))
    return 1;
  if (upload == Upload::InsidePageable)
    RT(cudaMemcpyAsync(b.in, b.pageable_in.data(), kN * sizeof(int), cudaMemcpyHostToDevice, stream));
  if (upload == Upload::InsideWithCopyBack)
    RT(cudaMemcpyAsync(b.in, b.pinned_in, kN * sizeof(int), cudaMemcpyHostToDevice, stream));
  if (int r = issue_network(b, stream, scale)) return r;
  if (upload == Upload::InsideWithCopyBack)
    RT(cudaMemcpyAsync(b.pinned_out, b.out, kN * sizeof(int), cudaMemcpyDeviceToHost, stream));
  RT(cudaStreamEndCapture(stream, graph));
  RT(cudaStreamIsCapturing(stream, &status));
  if (!expect(status == cudaStreamCaptureStatusNone && *graph, "cudaStreamIsCapturing after the capture")) return 1;
  return check_nodes(*graph, upload);
}

// `iterations` launches of `exec`, each with a new input, checked.
int run(Buffers& b, cudaStream_t stream, cudaGraphExec_t exec, int scale, Upload upload, int iterations,
        int first_iteration) {
  const char* what = upload == Upload::Outside          ? "input uploaded outside the graph"
                     : upload == Upload::InsidePageable ? "input uploaded inside the graph"
                                                        : "graph with its copy back";
  for (int it = first_iteration; it < first_iteration + iterations; ++it) {
    const int* in = upload == Upload::InsidePageable ? b.pageable_in.data() : b.pinned_in;
    make_input(const_cast<int*>(in), it);
    if (upload == Upload::Outside)
      RT(cudaMemcpyAsync(b.in, b.pinned_in, kN * sizeof(int), cudaMemcpyHostToDevice, stream));
    RT(cudaGraphLaunch(exec, stream));
    const int* out = b.pinned_out;
    if (upload != Upload::InsideWithCopyBack) {
      RT(cudaMemcpy(b.out_host.data(), b.out, kN * sizeof(int), cudaMemcpyDeviceToHost));
      out = b.out_host.data();
    } else {
      RT(cudaStreamSynchronize(stream));
    }
    if (!outputs_exact(in, out, scale, what, it)) return 1;
    if (it == first_iteration + 1) {
      // Freeing memory makes a remote server forget what may name it: the
      // next launch must still be exact.
      int* scratch = nullptr;
      RT(cudaMalloc(&scratch, sizeof(int)));
      RT(cudaFree(scratch));
    }
  }
  return 0;
}

// The graph's scale_add node (its first kernel) reads `from`; the
// executable graph's is set to `to`.
int set_scale(cudaGraph_t graph, cudaGraphExec_t exec, int from, int to) {
  size_t count = 0;
  RT(cudaGraphGetNodes(graph, nullptr, &count));
  std::vector<cudaGraphNode_t> nodes(count);
  RT(cudaGraphGetNodes(graph, nodes.data(), &count));
  for (cudaGraphNode_t node : nodes) {
    cudaGraphNodeType type{};
    RT(cudaGraphNodeGetType(node, &type));
    if (type != cudaGraphNodeTypeKernel) continue;
    cudaKernelNodeParams params{};
    RT(cudaGraphKernelNodeGetParams(node, &params));
    const int scale = *static_cast<int*>(params.kernelParams[3]);
    if (!expect(scale == from, "cudaGraphKernelNodeGetParams: scale " + std::to_string(scale))) return 1;
    int new_scale = to;
    params.kernelParams[3] = &new_scale;
    RT(cudaGraphExecKernelNodeSetParams(exec, node, &params));
    return 0;
  }
  return expect(false, "the graph has a kernel node") ? 0 : 1;
}

int capture_and_run(Buffers& b, cudaStream_t stream, Upload upload, int iterations) {
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t exec = nullptr;
  if (int r = capture(b, stream, 3, upload, &graph)) return r;
  RT(cudaGraphInstantiate(&exec, graph, 0));
  RT(cudaGraphUpload(exec, stream));
  if (int r = run(b, stream, exec, 3, upload, iterations, 0)) return r;
  // The same graph with another scale: the executable graph is updated.
  cudaGraph_t changed = nullptr;
  if (int r = capture(b, stream, 5, upload, &changed)) return r;
  cudaGraphExecUpdateResultInfo info{};
  RT(cudaGraphExecUpdate(exec, changed, &info));
  if (!expect(info.result == cudaGraphExecUpdateSuccess, "cudaGraphExecUpdate's result")) return 1;
  if (int r = run(b, stream, exec, 5, upload, kUpdateIterations, iterations)) return r;
  // One kernel node's argument set in the executable graph.
  if (int r = set_scale(graph, exec, 3, 7)) return r;
  if (int r = run(b, stream, exec, 7, upload, kUpdateIterations, iterations + kUpdateIterations)) return r;
  RT(cudaGraphExecDestroy(exec));
  RT(cudaGraphDestroy(changed));
  RT(cudaGraphDestroy(graph));
  std::printf("ok: %d launches of a captured graph (%s), %d after cudaGraphExecUpdate, %d after "
              "cudaGraphExecKernelNodeSetParams, exact\n",
              iterations, upload == Upload::Outside ? "input uploaded outside" : "input uploaded inside",
              kUpdateIterations, kUpdateIterations);
  return 0;
}

// A synchronisation of the capturing stream is forbidden: it fails, and so
// does the capture.
int forbidden_sync(Buffers& b, cudaStream_t stream) {
  RT(cudaStreamBeginCapture(stream, cudaStreamCaptureModeGlobal));
  graph_example::square_mod<<<kBlocks, kBlock, 0, stream>>>(b.hidden, kN);
  const cudaError_t sync = cudaStreamSynchronize(stream);
  if (!expect(sync == cudaErrorStreamCaptureUnsupported,
              std::string("cudaStreamSynchronize during a capture: ") + cudaGetErrorName(sync)))
    return 1;
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  RT(cudaStreamIsCapturing(stream, &status));
  if (!expect(status == cudaStreamCaptureStatusInvalidated, "the capture is invalidated")) return 1;
  cudaGraph_t graph = nullptr;
  const cudaError_t end = cudaStreamEndCapture(stream, &graph);
  if (!expect(end == cudaErrorStreamCaptureInvalidated && !graph,
              std::string("cudaStreamEndCapture of an invalidated capture: ") + cudaGetErrorName(end)))
    return 1;
  cudaGetLastError();  // the capture's errors are not sticky
  RT(cudaStreamIsCapturing(stream, &status));
  if (!expect(status == cudaStreamCaptureStatusNone, "no capture after cudaStreamEndCapture")) return 1;
  std::printf("ok: a synchronisation during a capture fails and invalidates it\n");
  return 0;
}

int run_all(int iterations) {
  Buffers b;
  RT(cudaMalloc(&b.in, kN * sizeof(int)));
  RT(cudaMalloc(&b.in_copy, kN * sizeof(int)));
  RT(cudaMalloc(&b.hidden, kN * sizeof(int)));
  RT(cudaMalloc(&b.out, kN * sizeof(int)));
  RT(cudaMallocHost(&b.pinned_in, kN * sizeof(int)));
  RT(cudaMallocHost(&b.pinned_out, kN * sizeof(int)));
  cudaStream_t stream = nullptr;
  RT(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  for (Upload upload : {Upload::Outside, Upload::InsidePageable, Upload::InsideWithCopyBack})
    if (int r = capture_and_run(b, stream, upload, iterations)) return r;
  if (int r = forbidden_sync(b, stream)) return r;
  RT(cudaStreamDestroy(stream));
  RT(cudaFreeHost(b.pinned_in));
  RT(cudaFreeHost(b.pinned_out));
  for (int* p : {b.in, b.in_copy, b.hidden, b.out}) RT(cudaFree(p));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  examples::program = "graph";
  int iterations = 12;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--iterations") == 0 && i + 1 < argc) {
      iterations = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: graph [--iterations N]\n");
      return 2;
    }
  }
  const int r = run_all(iterations);
  if (r == 0) std::printf("graph: all checks passed\n");
  return r;
}

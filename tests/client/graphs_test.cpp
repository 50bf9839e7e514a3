// Capture bookkeeping (client/graphs.h): what a capture records, which calls
// it refuses, and how the capture modes decide.
#include <doctest/doctest.h>

#include <thread>

#include "client/graphs.h"

using namespace rrto;
using namespace rrto::client;

namespace {

constexpr uint64_t kStream = 0x14;  // a stream the program created
constexpr uint64_t kOther = 0x24;

proto::Launch launch_on(uint64_t stream, const uint8_t* params, size_t size) {
  return proto::Launch{.function = 0x13, .stream = stream, .params = {params, size}};
}

// Restores the calling thread's capture mode when a test ends.
struct ModeGuard {
  CUstreamCaptureMode saved = Graphs::exchange_mode(CU_STREAM_CAPTURE_MODE_GLOBAL);
  ~ModeGuard() { Graphs::exchange_mode(saved); }
};

}  // namespace

TEST_CASE("a capture records the operators of its stream, with their arguments and host pointers") {
  ModeGuard mode;
  Graphs graphs;
  CHECK_FALSE(graphs.capturing());
  REQUIRE(graphs.begin_capture(kStream, CU_STREAM_CAPTURE_MODE_GLOBAL) == CUDA_SUCCESS);
  CHECK(graphs.begin_capture(kStream, CU_STREAM_CAPTURE_MODE_GLOBAL) == CUDA_ERROR_ILLEGAL_STATE);
  const Graphs::Capture* capture = graphs.capture_of(kStream);
  REQUIRE(capture);
  CHECK(capture->id != 0);
  CHECK_FALSE(capture->invalidated);

  uint8_t params[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  CUresult result = CUDA_SUCCESS;
  CHECK(graphs.take(launch_on(kStream, params, sizeof params), true, nullptr, nullptr, result) ==
        CaptureVerdict::Recorded);
  params[0] = 99;  // the program's buffer changes after the launch: the graph keeps what was launched
  int host[4] = {};
  proto::MemcpyHtoD upload{.dst = 0x1000, .size = sizeof host, .bulk_offset = 7, .stream = kStream};
  CHECK(graphs.take(upload, true, host, nullptr, result) == CaptureVerdict::Recorded);
  proto::Launch elsewhere = launch_on(kOther, params, sizeof params);
  CHECK(graphs.take(elsewhere, true, nullptr, nullptr, result) == CaptureVerdict::NotCaptured);

  CUgraph handle = nullptr;
  REQUIRE(graphs.end_capture(kStream, &handle) == CUDA_SUCCESS);
  CHECK_FALSE(graphs.capturing());
  const Graph* graph = graphs.graphs.find(handle);
  REQUIRE(graph);
  REQUIRE(graph->nodes.size() == 2);
  GraphNode copy = graph->nodes[0];  // a copy's call points into its own parameters
  const auto& launch = std::get<proto::Launch>(copy.call);
  CHECK(launch.params.data() == copy.params.data());
  CHECK(launch.params[0] == 1);
  CHECK(graph->nodes[1].host_src == host);
  CHECK(std::get<proto::MemcpyHtoD>(graph->nodes[1].call).bulk_offset == 0);
}

TEST_CASE("a forbidden synchronisation fails and invalidates the capture; ending it says so") {
  ModeGuard mode;
  Graphs graphs;
  REQUIRE(graphs.begin_capture(kStream, CU_STREAM_CAPTURE_MODE_GLOBAL) == CUDA_SUCCESS);
  CHECK(graphs.check_wait(kOther) == CUDA_SUCCESS);
  CHECK(graphs.check_wait(kStream) == CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED);
  CHECK(graphs.capture_of(kStream)->invalidated);
  uint8_t params[4] = {};
  CUresult result = CUDA_SUCCESS;
  CHECK(graphs.take(launch_on(kStream, params, 4), true, nullptr, nullptr, result) == CaptureVerdict::Refused);
  CHECK(result == CUDA_ERROR_STREAM_CAPTURE_INVALIDATED);
  CUgraph handle = reinterpret_cast<CUgraph>(1);
  CHECK(graphs.end_capture(kStream, &handle) == CUDA_ERROR_STREAM_CAPTURE_INVALIDATED);
  CHECK(handle == nullptr);
  CHECK(graphs.end_capture(kStream, &handle) == CUDA_ERROR_ILLEGAL_STATE);
  CHECK(graphs.begin_capture(0, CU_STREAM_CAPTURE_MODE_GLOBAL) == CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED);
}

TEST_CASE("capture modes: a synchronous copy is refused unless the thread is relaxed") {
  ModeGuard mode;
  Graphs graphs;
  proto::MemcpyDtoD copy{.dst = 0x1000, .src = 0x2000, .size = 4, .stream = 0};
  CUresult result = CUDA_SUCCESS;

  REQUIRE(graphs.begin_capture(kStream, CU_STREAM_CAPTURE_MODE_THREAD_LOCAL) == CUDA_SUCCESS);
  // Another thread is not bound by a thread-local capture.
  CaptureVerdict other_thread = CaptureVerdict::Refused;
  std::thread([&] { other_thread = graphs.take(copy, false, nullptr, nullptr, result); }).join();
  CHECK(other_thread == CaptureVerdict::NotCaptured);
  CHECK(Graphs::exchange_mode(CU_STREAM_CAPTURE_MODE_RELAXED) == CU_STREAM_CAPTURE_MODE_GLOBAL);
  CHECK(graphs.take(copy, false, nullptr, nullptr, result) == CaptureVerdict::NotCaptured);
  Graphs::exchange_mode(CU_STREAM_CAPTURE_MODE_GLOBAL);
  CHECK(graphs.take(copy, false, nullptr, nullptr, result) == CaptureVerdict::Refused);
  CHECK(result == CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED);
  CHECK(graphs.capture_of(kStream)->invalidated);
}

TEST_CASE("another stream joining a capture through its event is refused") {
  ModeGuard mode;
  Graphs graphs;
  REQUIRE(graphs.begin_capture(kStream, CU_STREAM_CAPTURE_MODE_RELAXED) == CUDA_SUCCESS);
  CUresult result = CUDA_SUCCESS;
  proto::EventRecord record{.event = 0x15, .stream = kStream};
  CHECK(graphs.take(record, true, nullptr, nullptr, result) == CaptureVerdict::Recorded);
  proto::StreamWaitEvent join{.stream = kOther, .event = 0x15};
  CHECK(graphs.take(join, true, nullptr, nullptr, result) == CaptureVerdict::Refused);
  CHECK(result == CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED);
  CHECK(graphs.capture_of(kStream)->invalidated);
}

TEST_CASE("graph templates: ids above the matcher's, as many as a session may hold") {
  Graphs graphs;
  uint32_t first = graphs.claim_template();
  CHECK(first >= limits::kGraphTemplateIds);
  for (uint32_t i = 1; i < limits::kGraphTemplates; ++i) CHECK(graphs.claim_template() > first);
  CHECK(graphs.claim_template() == 0);
  graphs.release_template();
  CHECK(graphs.claim_template() != 0);
}

TEST_CASE("a node handle names its graph's node and nothing else") {
  ModeGuard mode;
  Graphs graphs;
  REQUIRE(graphs.begin_capture(kStream, CU_STREAM_CAPTURE_MODE_GLOBAL) == CUDA_SUCCESS);
  CUresult result = CUDA_SUCCESS;
  proto::Memset memset{.dst = 0x1000, .count = 4, .stream = kStream};
  REQUIRE(graphs.take(memset, true, nullptr, nullptr, result) == CaptureVerdict::Recorded);
  CUgraph handle = nullptr;
  REQUIRE(graphs.end_capture(kStream, &handle) == CUDA_SUCCESS);
  const Graph& graph = *graphs.graphs.find(handle);
  const uint64_t node = Graphs::node_handle(graph, 0);
  CHECK(graphs.find_node(node) == &graph.nodes[0]);
  CHECK(graphs.find_node(Graphs::node_handle(graph, 1)) == nullptr);
  CHECK(graphs.find_node(reinterpret_cast<uint64_t>(handle)) == nullptr);
  graphs.graphs.remove(reinterpret_cast<uint64_t>(handle));
  CHECK(graphs.find_node(node) == nullptr);
}

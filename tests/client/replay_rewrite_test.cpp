// Replay's rewrite of outgoing batches, against a fake connection: what the
// client sends for a program that repeats one inference, and for one that
// leaves the pattern.
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "client/client.h"
#include "fake_connection.h"

namespace rrto::client {
namespace {

// A program of one stream: each inference uploads its input, runs two
// kernels (with a stream wait between them) and reads its output back.
class Program {
 public:
  static constexpr uint64_t kInput = 0x1000, kHidden = 0x2000, kOutput = 0x3000, kStream = 0x11, kEvent = 0x21;

  Program() {
    remote_.attach(std::make_unique<FakeConnection>(sent, nullptr, &continuation), "fake");
    remote_.set_mode(Mode::Replay);
    replayer_.enable();
    remote_.set_rewriter(&replayer_);
    const KernelParam layout[] = {{0, 8}, {8, 8}, {16, 4}};
    first_ = kernels_.intern(0x5eed, "layer1", layout);
    second_ = kernels_.intern(0x5eed, "layer2", layout);
  }

  // `interleave`: the program creates a stream amid the inference.
  // `queued_sync`: it synchronises the stream before the copy back, and the
  // synchronisation is queued (as replay mode's client queues one).
  void inference(uint32_t scale = 1, uint32_t wait_flags = CU_EVENT_WAIT_DEFAULT, bool interleave = false,
                 bool queued_sync = false) {
    upload();
    launch(*first_, 1, kInput, kHidden, scale);
    if (interleave) {
      proto::StreamCreate create{.stream = 0x99, .flags = 0, .priority = 0};
      REQUIRE(remote_.defer(create) == CUDA_SUCCESS);
    }
    proto::StreamWaitEvent wait{.stream = kStream, .event = kEvent, .flags = wait_flags};
    show(wait, op_of(wait));
    REQUIRE(remote_.defer(wait) == CUDA_SUCCESS);
    launch(*second_, 2, kHidden, kOutput, 1);
    if (queued_sync) {
      proto::StreamSynchronize sync{.stream = kStream};
      show(sync, op_of(sync));
      REQUIRE(remote_.defer(sync) == CUDA_SUCCESS);
    }
    download(kOutput, output);
  }

  // An inference that reads its hidden layer back before the second kernel,
  // whose scale is `second_scale`.
  void peeking_inference(uint32_t second_scale = 1) {
    upload();
    launch(*first_, 1, kInput, kHidden, 1);
    download(kHidden, hidden);
    launch(*second_, 2, kHidden, kOutput, second_scale);
    download(kOutput, output);
  }

  std::string stats() const { return replayer_.stats_json(); }

  std::vector<SentBatch> sent;
  FakeContinuation continuation;  // what the fake server's continuations return
  uint8_t hidden[8] = {}, output[8] = {};
  int served = 0;  // calls a continuation answered

 private:
  template <typename Call>
  bool show(const Call& call, const Op& op) {
    const bool answered = show_replayer(replayer_, remote_, call, op);
    served += answered;
    return answered;
  }
  void upload() {
    input_.assign(16, static_cast<uint8_t>(sent.size()));
    proto::MemcpyHtoD up{.dst = kInput, .size = input_.size(), .bulk_offset = 0, .stream = kStream};
    REQUIRE_FALSE(show(up, op_of(up, input_.data(), true)));
    up.bulk_offset = remote_.add_bulk_copy(input_.data(), input_.size());
    REQUIRE(remote_.defer(up) == CUDA_SUCCESS);
  }
  void launch(const KernelDef& kernel, uint64_t function, uint64_t in, uint64_t out, uint32_t scale) {
    uint8_t args[20];
    std::memcpy(args, &in, 8);
    std::memcpy(args + 8, &out, 8);
    std::memcpy(args + 16, &scale, 4);
    proto::Launch call{.function = function, .grid = {4, 1, 1}, .block = {64, 1, 1}, .shared_mem = 0,
                       .stream = kStream, .params = args};
    if (show(call, op_of(call, kernel))) return;
    REQUIRE(remote_.defer(call) == CUDA_SUCCESS);
  }
  void download(uint64_t src, uint8_t (&dst)[8]) {
    proto::MemcpyDtoH down{.src = src, .size = sizeof dst, .stream = kStream};
    if (show(down, op_of(down, dst, false))) {
      std::memcpy(dst, replayer_.served_output(), sizeof dst);
      return;
    }
    REQUIRE(remote_.call_for_bulk(down, dst, sizeof dst) == CUDA_SUCCESS);
  }

  Remote remote_;
  Replayer replayer_;
  KernelTable kernels_;
  const KernelDef* first_ = nullptr;
  const KernelDef* second_ = nullptr;
  std::vector<uint8_t> input_;
};

constexpr size_t kOperators = 5;  // per inference

// The registration the program sent, decoded.
std::vector<proto::CallView> registered(const Program& p, std::vector<uint8_t>& storage) {
  for (const SentBatch& b : p.sent) {
    for (const proto::CallView& view : calls_of(b.meta)) {
      if (view.op != proto::CallOp::TemplateRegister) continue;
      const auto reg = decode<proto::TemplateRegister>(view);
      storage.assign(reg.calls.begin(), reg.calls.end());
      return calls_of(storage);
    }
  }
  return {};
}

TEST_CASE("a repeating inference becomes one ReplaySegment carrying only its input") {
  Program p;
  for (int i = 0; i < 6; ++i) p.inference();
  std::vector<uint8_t> storage;
  const auto tmpl = registered(p, storage);
  REQUIRE(tmpl.size() == kOperators);
  CHECK(tmpl.front().op == proto::CallOp::MemcpyHtoD);
  CHECK(tmpl.back().op == proto::CallOp::MemcpyDtoH);

  const SentBatch& last = p.sent.back();
  const auto calls = calls_of(last.meta);
  REQUIRE(calls.size() == 1);
  const auto replay = decode<proto::ReplaySegment>(calls[0]);
  CHECK(replay.first == 0);
  CHECK(replay.last == kOperators - 1);
  CHECK(replay.input_offset == 0);
  CHECK(replay.deltas.empty());
  CHECK(last.bulk == std::vector<uint8_t>(16, static_cast<uint8_t>(p.sent.size() - 1)));
  // The first inferences went call by call.
  CHECK(calls_of(p.sent.front().meta).size() == kOperators);
}

TEST_CASE("a queued synchronisation stays inside the inference's one ReplaySegment") {
  Program p;
  for (int i = 0; i < 6; ++i) p.inference(1, CU_EVENT_WAIT_DEFAULT, false, true);
  std::vector<uint8_t> storage;
  const auto tmpl = registered(p, storage);
  REQUIRE(tmpl.size() == kOperators + 1);
  CHECK(tmpl[kOperators - 1].op == proto::CallOp::StreamSynchronize);
  // One batch per inference, the last of them a single segment of all six.
  CHECK(p.sent.size() == 6);
  const auto calls = calls_of(p.sent.back().meta);
  REQUIRE(calls.size() == 1);
  const auto replay = decode<proto::ReplaySegment>(calls[0]);
  CHECK(replay.first == 0);
  CHECK(replay.last == kOperators);
}

TEST_CASE("a changed kernel argument travels as a delta of its launch") {
  Program p;
  for (int i = 0; i < 6; ++i) p.inference();
  p.inference(7);
  const auto calls = calls_of(p.sent.back().meta);
  REQUIRE(calls.size() == 1);
  const auto replay = decode<proto::ReplaySegment>(calls[0]);
  ByteReader deltas(replay.deltas);
  uint32_t position = 0;
  REQUIRE(deltas.get(position));
  CHECK(position == 1);  // the first launch
  const auto args = deltas.get_blob();
  REQUIRE(args.size() == 20);
  uint32_t scale = 0;
  std::memcpy(&scale, args.data() + 16, 4);
  CHECK(scale == 7);
  CHECK(deltas.done());
}

TEST_CASE("the registered template keeps each call exactly, stream-wait flags included") {
  Program p;
  for (int i = 0; i < 4; ++i) p.inference(1, CU_EVENT_WAIT_EXTERNAL);
  std::vector<uint8_t> storage;
  const auto tmpl = registered(p, storage);
  REQUIRE(tmpl.size() == kOperators);
  const auto wait = decode<proto::StreamWaitEvent>(tmpl[2]);
  CHECK(wait.flags == CU_EVENT_WAIT_EXTERNAL);
  CHECK(wait.event == Program::kEvent);
  const auto up = decode<proto::MemcpyHtoD>(tmpl[0]);
  CHECK(up.bulk_offset == 0);
  CHECK(up.dst == Program::kInput);
}

TEST_CASE("a stream-wait whose flags change leaves the template") {
  Program p;
  for (int i = 0; i < 6; ++i) p.inference();
  p.inference(1, CU_EVENT_WAIT_EXTERNAL);
  const auto calls = calls_of(p.sent.back().meta);
  REQUIRE(calls.size() >= 2);
  bool sent_wait = false;
  for (const auto& view : calls)
    if (view.op == proto::CallOp::StreamWaitEvent)
      sent_wait = decode<proto::StreamWaitEvent>(view).flags == CU_EVENT_WAIT_EXTERNAL;
  CHECK(sent_wait);
  CHECK(p.stats().find(R"("operands":1)") != std::string::npos);
}

TEST_CASE("a call queued amid the stretch keeps the batch explicit") {
  Program p;
  for (int i = 0; i < 6; ++i) p.inference();
  const size_t before = p.sent.size();
  p.inference(1, CU_EVENT_WAIT_DEFAULT, true);
  REQUIRE(p.sent.size() == before + 1);
  const auto calls = calls_of(p.sent.back().meta);
  CHECK(calls.size() == kOperators + 1);
  CHECK(calls[2].op == proto::CallOp::StreamCreate);
  CHECK(p.stats().find(R"("interleaved":1)") != std::string::npos);
  // The stretch after the interruption replays again.
  p.inference();
  CHECK(calls_of(p.sent.back().meta).size() == 1);
}

TEST_CASE("after a few followed iterations, a continuation answers the calls after the first copy back") {
  Program p;
  p.continuation.outputs.assign(8, 0xcd);
  for (int i = 0; i < 8; ++i) p.peeking_inference();
  REQUIRE(p.served >= 2);
  // The last inference: one batch, a segment up to the first copy back that
  // asks for the rest; the kernel and the copy after it were answered.
  const size_t before = p.sent.size();
  const int served = p.served;
  p.peeking_inference();
  REQUIRE(p.sent.size() == before + 1);
  CHECK(p.served == served + 2);
  CHECK(std::vector<uint8_t>(p.output, p.output + 8) == p.continuation.outputs);
  const auto calls = calls_of(p.sent.back().meta);
  const auto replay = decode<proto::ReplaySegment>(calls.back());
  CHECK(replay.first == 0);
  CHECK(replay.last == 2);
  CHECK(replay.speculate_to == 4);
  // The one before it ended, kept whole, before anything else.
  CHECK(decode<proto::SpeculationEnd>(calls.front()).kept == 2);
  CHECK(p.stats().find(R"("rollbacks":0)") != std::string::npos);

  SUBCASE("a call that leaves the continuation ends it first, keeping what was followed") {
    p.peeking_inference(7);
    const auto sent = calls_of(p.sent.back().meta);
    REQUIRE(sent.size() == 2);
    CHECK(decode<proto::SpeculationEnd>(sent[0]).kept == 0);
    // The changed launch and the copy after it replay from the template.
    const auto rest = decode<proto::ReplaySegment>(sent[1]);
    CHECK(rest.first == 3);
    CHECK(rest.last == 4);
    CHECK_FALSE(rest.deltas.empty());
    CHECK(p.stats().find(R"("rollbacks":1)") != std::string::npos);
  }
}

TEST_CASE("continuations whose saving takes longer than a round trip stop after a few") {
  Program p;
  p.continuation.outputs.assign(8, 0xcd);
  p.continuation.save_ns = uint64_t{1} << 40;  // far longer than any exchange here
  for (int i = 0; i < 24; ++i) p.peeking_inference();
  CHECK(p.stats().find(R"("continuations":4,)") != std::string::npos);
  CHECK(p.stats().find("off: saving what it may write takes longer") != std::string::npos);
  CHECK(decode<proto::ReplaySegment>(calls_of(p.sent.back().meta).back()).speculate_to == 0);
}

TEST_CASE("an inference whose only copy back is at its end asks for no continuation") {
  Program p;
  p.continuation.outputs.assign(8, 0xcd);
  for (int i = 0; i < 8; ++i) p.inference();
  CHECK(p.served == 0);
  CHECK(decode<proto::ReplaySegment>(calls_of(p.sent.back().meta).back()).speculate_to == 0);
}

}  // namespace
}  // namespace rrto::client

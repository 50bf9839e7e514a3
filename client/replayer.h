// Replay mode. Every operator is fed to the Operator Sequence Search; once
// it confirms a template (the sequence one inference issues), the template
// is registered with the server, and from then on each stretch of calls
// that follows the template exactly is sent as one ReplaySegment (template
// id, the inputs, the changed launch arguments) instead of call by call.
//
// Calls are queued exactly as in async mode, and only at the moment the
// queue is sent is the matched stretch swapped for its ReplaySegment. A call
// that does not follow the template simply stays in the queue as an explicit
// call.
//
// Speculation (DESIGN.md): once a template has been followed a few
// iterations in a row, a segment that ends before the template does asks
// the server to go on up to the next upload. The program's next calls are
// then answered from that reply as long as they are the template's; the
// first that is not ends the speculation (SpeculationEnd), and the server
// undoes what the program did not ask for before running that call.
//
// The replayer knows the queue only as an OutgoingBatch handed to
// before_send(); what it needs queued itself (registrations) it leaves in
// control() for its owner to queue.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "client/outgoing_batch.h"
#include "matcher/matcher.h"
#include "protocol/any_call.h"
#include "protocol/batch.h"
#include "recorder/op.h"

namespace rrto::client {

class Replayer final : public BatchRewriter {
 public:
  Replayer();
  ~Replayer() override;

  void enable();
  // Only watches: finds iterations for the steady-state figures of
  // RRTO_STATS, registers and rewrites nothing (rpc and async mode).
  void observe();
  bool enabled() const { return enabled_; }
  // Whether segments ask for a speculative continuation: where it pays
  // (Auto, the default), never, or even where saving costs more than a
  // round trip.
  enum class SpeculationMode { Auto, Off, Always };
  void set_speculation(SpeculationMode mode) { speculation_mode_ = mode; }

  // For every operator, before its call is queued: `op` is the recorder's
  // view of `call`, `queue` the queue it is about to join. True when a
  // speculation answered it: then it is not queued at all, and a copy to
  // the host takes its bytes from served_output().
  template <typename Call>
  [[nodiscard]] bool on_op(const Op& op, const Call& call, OutgoingBatch& queue) {
    if (!enabled_) return false;
    log(op, call);
    const bool served = speculation_.active && serve(op, queue);
    follow(op, queue, served);
    return served;
  }
  // The bytes of the copy to the host on_op just answered.
  const uint8_t* served_output() const { return served_output_; }

  // Calls to queue before the operator just fed (template drops and
  // registrations); empty almost always. The owner queues and clears them.
  proto::BatchWriter& control() { return control_; }

  // Memory was freed or a module unloaded: templates may name it. The server
  // drops its copies by itself on the same calls. A speculation in hand
  // ends first, in `queue`.
  void invalidate(OutgoingBatch& queue);
  // A call the matcher never sees (a graph's ReplaySegment) is about to be
  // queued: the stretch in hand ends before it, and so does a speculation.
  void interrupt(OutgoingBatch& queue);

  // A call that changes how later operators run (a function's setting) is
  // about to join `queue`: a speculation in hand ends first, in `queue`.
  void before_setting(OutgoingBatch& queue) {
    if (speculation_.active) end_speculation(queue);
  }

  void before_send(OutgoingBatch& batch) override;
  void after_send(const Sent& sent) override;

  // `"templates":[...]` for the stats line.
  std::string stats_json() const;

 private:
  // An operator as it was queued: its signatures and its call, whose
  // launch arguments (if any) live in `params`.
  struct Logged {
    uint64_t structural_sig = 0, full_sig = 0;
    proto::AnyCall call;
    std::vector<uint8_t> params;
  };
  struct Fallbacks {
    uint64_t broken = 0;       // the program left the template mid-stretch
    uint64_t operands = 0;     // a copy, memset or event operand changed
    uint64_t interleaved = 0;  // other calls were queued amid the stretch
  };
  struct SpeculationCounts {
    uint64_t continuations = 0;  // speculations the server ran
    uint64_t hits = 0;           // ... that the program followed to the end
    uint64_t rollbacks = 0;      // ... that it left: the server undid them
    uint64_t ops_served = 0;     // calls answered from a continuation
    uint64_t declined = 0;       // asked for, not run (the verdict says why)
  };
  struct ClientTemplate {
    TemplateId id = kNoTemplate;
    // Of the registered occurrence, by position.
    std::vector<uint64_t> structural_sig, full_sig;
    std::vector<proto::CallOp> op;
    std::vector<uint64_t> copy_bytes;  // copies to the host: their size
    uint64_t segments = 0, ops_replayed = 0, iterations = 0;
    uint64_t bytes_up = 0, bytes_down = 0;
    Fallbacks fallbacks;
    // Iterations followed in a row, and how many a speculation waits for.
    uint64_t followed = 0, speculate_after = 0;
    uint32_t verdict = 0;  // proto::SpeculationVerdict of the latest ask
    uint32_t costly = 0;   // continuations in a row whose saving cost more than a round trip
    bool speculates = true;  // false once the server found it cannot be
    SpeculationCounts speculation;
  };
  // The stretch of the current queue that follows a template.
  struct Segment {
    bool active = false;
    ClientTemplate* tmpl = nullptr;
    uint32_t first = 0, next = 0;
    QueueMark start;  // the queue when the stretch began
    std::vector<uint8_t> deltas;
  };

  template <typename Call>
  void log(const Op& op, const Call& call) {
    Logged& slot = next_slot(op);
    Call copy = call;
    // A template's input copies take their bytes from each ReplaySegment.
    if constexpr (requires { copy.bulk_offset; }) copy.bulk_offset = 0;
    if constexpr (requires { copy.params; }) {
      slot.params.assign(call.params.begin(), call.params.end());  // reuses the slot's capacity
      copy.params = slot.params;
    }
    slot.call = copy;
  }
  Logged& next_slot(const Op& op);
  // Feeds the matcher; unless the op was served, extends or starts the
  // stretch of the queue that follows a template.
  void follow(const Op& op, OutgoingBatch& queue, bool served);
  ClientTemplate* template_of(TemplateId id);
  void register_template(TemplateId id);
  void retire_oldest();
  void start_segment(ClientTemplate& t, uint32_t position, const QueueMark& queued);
  void abandon(uint64_t Fallbacks::*reason);

  bool enabled_ = false;
  bool observing_ = false;  // observe(): no templates
  SpeculationMode speculation_mode_ = SpeculationMode::Auto;
  std::unique_ptr<Matcher> matcher_;
  std::vector<Logged> log_;  // ring of the latest operators
  uint64_t logged_ = 0;
  std::unordered_map<TemplateId, std::unique_ptr<ClientTemplate>> templates_;
  std::vector<std::unique_ptr<ClientTemplate>> retired_;  // invalidated, kept for the stats
  // The continuation in hand: positions [next, end) of `tmpl` still to
  // serve, from `first`; offsets[i]: position first + i's bytes in outputs.
  struct Speculation {
    bool active = false;
    ClientTemplate* tmpl = nullptr;
    uint32_t first = 0, next = 0, end = 0;
    std::vector<uint8_t> outputs;
    std::vector<size_t> offsets;
  };

  // The last position after `from` a continuation may reach, or `from` - 1.
  uint32_t continuation_end(const ClientTemplate& t, uint32_t from) const;
  void begin_speculation(ClientTemplate& t, uint32_t first, uint32_t last, std::span<const uint8_t> outputs);
  bool serve(const Op& op, OutgoingBatch& queue);
  // Tells the server how much of the continuation the program followed.
  void end_speculation(OutgoingBatch& queue);
  void take_speculation_result(const std::span<const uint8_t>* result);

  Segment segment_;
  ClientTemplate* sent_ = nullptr;  // the template of the ReplaySegment in flight
  uint32_t asked_to_ = 0;           // its speculate_to
  uint32_t asked_from_ = 0;
  Speculation speculation_;
  const uint8_t* served_output_ = nullptr;
  proto::BatchWriter end_call_;  // the SpeculationEnd being queued
  // The quickest exchange with the server so far: about one round trip.
  uint64_t fastest_exchange_ns_ = UINT64_MAX;
  proto::BatchWriter control_;
};

}  // namespace rrto::client

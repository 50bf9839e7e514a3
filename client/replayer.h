// Replay mode. Every operator is fed to the Operator Sequence Search; once
// it confirms a template (the sequence one inference issues), the template
// is registered with the server, and from then on each stretch of calls
// that follows the template exactly is sent as one ReplaySegment (template
// id, the inputs, the changed launch arguments) instead of call by call.
//
// Nothing is speculative: calls are queued exactly as in async mode, and
// only at the moment the queue is sent is the matched stretch swapped for
// its ReplaySegment. A call that does not follow the template simply stays
// in the queue as an explicit call.
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
  bool enabled() const { return enabled_; }

  // For every operator, before its call is queued: `op` is the recorder's
  // view of `call`, `queued` the queue as it stands without it.
  template <typename Call>
  void on_op(const Op& op, const Call& call, const QueueMark& queued) {
    if (!enabled_) return;
    log(op, call);
    follow(op, queued);
  }

  // Calls to queue before the operator just fed (template drops and
  // registrations); empty almost always. The owner queues and clears them.
  proto::BatchWriter& control() { return control_; }

  // Memory was freed or a module unloaded: templates may name it. The server
  // drops its copies by itself on the same calls.
  void invalidate();

  void before_send(OutgoingBatch& batch) override;
  void after_send(uint64_t bytes_up, uint64_t bytes_down) override;

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
  struct ClientTemplate {
    TemplateId id = kNoTemplate;
    std::vector<uint64_t> structural_sig, full_sig;  // of the registered occurrence, by position
    uint64_t segments = 0, ops_replayed = 0, iterations = 0;
    uint64_t bytes_up = 0, bytes_down = 0;
    Fallbacks fallbacks;
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
  void follow(const Op& op, const QueueMark& queued);
  ClientTemplate* template_of(TemplateId id);
  void register_template(TemplateId id);
  void retire_oldest();
  void start_segment(ClientTemplate& t, uint32_t position, const QueueMark& queued);
  void abandon(uint64_t Fallbacks::*reason);

  bool enabled_ = false;
  std::unique_ptr<Matcher> matcher_;
  std::vector<Logged> log_;  // ring of the latest operators
  uint64_t logged_ = 0;
  std::unordered_map<TemplateId, std::unique_ptr<ClientTemplate>> templates_;
  std::vector<std::unique_ptr<ClientTemplate>> retired_;  // invalidated, kept for the stats
  Segment segment_;
  ClientTemplate* sent_ = nullptr;  // the template of the ReplaySegment in flight
  proto::BatchWriter control_;
};

}  // namespace rrto::client

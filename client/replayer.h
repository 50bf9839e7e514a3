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
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "client/remote.h"
#include "matcher/matcher.h"
#include "recorder/op.h"

namespace rrto::client {

class Replayer : public BatchRewriter {
 public:
  explicit Replayer(Remote& remote);
  ~Replayer() override;

  void enable();
  bool enabled() const { return enabled_; }

  // For every operator, with the client lock held, before its call is queued.
  // `function` is the launched function's handle (launches only).
  void on_op(const Op& op, uint64_t function);

  // Memory was freed or a module unloaded: templates may name it. The server
  // drops its copies by itself on the same calls.
  void invalidate();

  void before_send(proto::BatchWriter& batch) override;
  void after_send(uint64_t bytes_up, uint64_t bytes_down) override;

  // `"templates":[...]` for the stats line.
  std::string stats_json() const;

 private:
  struct Logged {
    Op op;
    uint64_t function = 0;
    std::vector<uint8_t> args;
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
    uint32_t batch_count = 0;  // the queue when the stretch began
    size_t batch_size = 0;
    uint64_t bulk_size = 0;
    uint32_t operator_calls = 0;
    std::vector<uint8_t> deltas;
  };

  void log(const Op& op, uint64_t function);
  void register_template(TemplateId id);
  void start_segment(ClientTemplate& t, uint32_t position);
  void abandon(uint64_t Fallbacks::*reason);

  Remote& remote_;
  bool enabled_ = false;
  std::unique_ptr<Matcher> matcher_;
  std::vector<Logged> log_;  // ring of the latest operators
  uint64_t logged_ = 0;
  std::unordered_map<TemplateId, std::unique_ptr<ClientTemplate>> templates_;
  std::vector<std::unique_ptr<ClientTemplate>> retired_;  // invalidated, kept for the stats
  Segment segment_;
  ClientTemplate* sent_ = nullptr;  // the template of the ReplaySegment in flight
};

}  // namespace rrto::client

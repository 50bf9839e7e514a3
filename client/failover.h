// Failover: when the session's server is lost, the client re-creates the
// session on another server of its cluster and carries on. The session's
// record (session_record.h) is sent there in its address window (Hello with
// kHelloResume), so that every allocation gets the address it had; then
// Remote sends the batch that was in flight again. The program sees one slower
// call.
//
// Exact for programs whose inferences carry no device state from one to the
// next: what replays and queries wrote on the lost server is not rebuilt.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "client/remote.h"
#include "client/session_record.h"
#include "protocol/calls.h"
#include "transport/transport.h"

namespace rrto::client {

class Failover final : public SessionKeeper {
 public:
  // `servers`: the configured ones, whose connect options servers learned
  // later share; `max_log_bytes` bounds the record.
  void configure(std::vector<transport::ConnectOptions> servers, std::string auth_key, std::string client_name,
                 uint64_t max_log_bytes);
  // The session opened: its address window, and the other servers of its
  // cluster as its server named them.
  void opened(const proto::HelloResult& result);
  // With another server to go to, `remote` counts its server as lost after
  // kLostAfterMs of silence once a request is sent (servers send heartbeats
  // while work runs), not only after the configured timeout.
  void watch(Remote& remote);
  static constexpr int kLostAfterMs = 1000;

  void kept(std::span<const uint8_t> meta, std::span<const transport::Segment> bulk, uint32_t ran,
            std::span<const uint8_t> last_result) override;
  bool reconnect(Remote& remote) override;

 private:
  // Where to go instead of `lost`: every server known but it, or it alone.
  std::vector<transport::ConnectOptions> candidates(const std::string& lost) const;
  // Sends the record to `fresh`, a session just resumed there.
  CUresult replay_record(Remote& fresh);
  void learn(std::string_view address);

  std::vector<transport::ConnectOptions> servers_;
  std::string auth_key_, client_name_;
  uint64_t window_ = 0;
  SessionRecord record_;
  Remote* watched_ = nullptr;  // whose silence limit watch() set
};

}  // namespace rrto::client

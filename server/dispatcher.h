// Runs a decoded batch on one session, in order, stopping at the first call
// that fails, and builds the reply: ReplyHeader{status, index of the failing
// call or of the last call} followed by the last call's result body, or by an
// ErrorResult when a failed call has something to say. Whether a session may
// run a call at all (the handshake first, and once) is decided here alone.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/batch.h"
#include "protocol/calls.h"
#include "protocol/handshake.h"
#include "server/batch_decoder.h"
#include "server/session.h"

namespace rrto::server {

// What a client showed of itself once its handshake ended: at Hello when
// there was nothing to go on (another protocol version, no nonce), else at
// Authenticate.
struct Introduction {
  uint32_t protocol_version = 0;
  std::string_view client_name;
  bool authenticated = false;  // proved the server's key (true when the server has none)
  uint32_t flags = 0;          // proto::HelloFlag
  uint64_t window = 0;         // with kHelloResume: the address window it had
};

// What a client that passed the handshake is told besides its device.
struct Welcome {
  uint32_t devices = 0;
  uint64_t sessions = 0;  // admitted, the new one included
  uint64_t free_memory = 0;
  std::string redirect;  // the server of the cluster it should use instead; then no session
  std::string peers;     // the other servers of the cluster, "host:port,..."
};

// Accepts or refuses a session (protocol version, key, capacity) and places
// an accepted session on a device, or sends the client elsewhere.
class Admission {
 public:
  virtual ~Admission() = default;
  // On refusal returns the code for the client and says why. Otherwise
  // `session` is admitted, unless the client only probed or `welcome` names
  // another server.
  virtual CUresult admit(Session& session, const Introduction& introduction, Welcome& welcome, std::string& why) = 0;
};

struct BatchReply {
  std::vector<uint8_t> meta;
  std::span<const uint8_t> bulk;  // a MemcpyDtoH's bytes, valid until the next call on the device
  CUresult status = CUDA_SUCCESS;
  uint32_t call_index = 0;
  // The session must end after this reply (a refused Hello, a call before Hello).
  bool end_session = false;
  std::string end_reason;
};

class Dispatcher {
 public:
  // auth_key: the key clients must prove they know (empty: none).
  Dispatcher(Admission& admission, std::string auth_key) : admission_(admission), handshake_(std::move(auth_key)) {}

  void run(Session& session, std::span<const DecodedCall> calls, BatchReply& reply);

 private:
  class CallRunner;

  CUresult run_call(Session& session, const DecodedCall& call, BatchReply& reply);
  CUresult check_admission(Session& session, const proto::AnyCall& call, BatchReply& reply);
  CUresult hello(Session& session, const proto::Hello& hello, BatchReply& reply);
  CUresult authenticate(Session& session, const proto::Authenticate& authenticate, BatchReply& reply);
  // The handshake has ended: the session is admitted (HelloResult) or refused.
  CUresult admit(Session& session, const Introduction& client, BatchReply& reply);
  CUresult replay(Session& session, const proto::ReplaySegment& segment, std::span<const uint8_t> inputs,
                  BatchReply& reply);
  // Speculative continuation (speculation.h): after `segment` ran, goes on
  // with the template to segment.speculate_to; the answer is a
  // ReplaySegmentResult.
  CUresult speculate(Session& session, const TemplateStore::Template& t, const proto::ReplaySegment& segment,
                     BatchReply& reply);
  // Runs the continuation's calls; on a failure undoes them. A verdict.
  uint32_t run_continuation(Session& session, std::span<const DecodedCall> calls);
  CUresult end_speculation(Session& session, uint32_t kept);

  // Room for the reply's header (run() writes it last), and no result body.
  static void keep_only_header(BatchReply& reply) {
    if (reply.meta.size() != proto::kReplyHeaderBytes) reply.meta.resize(proto::kReplyHeaderBytes);
  }
  // The call's result body, after the reply's header.
  template <typename Result>
  void set_result(BatchReply& reply, Result& result) {
    keep_only_header(reply);
    ByteWriter w(reply.meta);
    proto::encode_fields(w, result);
  }

  Admission& admission_;
  proto::ServerHandshake handshake_;
  std::string client_name_;  // from Hello, until Authenticate
  uint32_t client_flags_ = 0;  // from Hello, until Authenticate
  uint64_t client_window_ = 0;  // from Hello, until Authenticate
  std::string refusal_;          // why a Hello was refused
};

// A reply for a batch that could not be run at all (malformed): the status
// belongs to call 0 and the message says what was wrong.
void encode_error_reply(CUresult status, uint32_t call_index, std::string_view message, std::vector<uint8_t>& meta);

}  // namespace rrto::server

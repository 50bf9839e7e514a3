// Which of the configured servers a client's session goes to. With several
// listed, the client first asks each for its load (a probe: the handshake,
// with no session) and tries them least loaded first; then, the server it
// connects to may send it to a better server of its cluster (HelloResult's
// redirect), which it follows once: that server admits it wherever it is.
#pragma once

#include <cuda.h>

#include <string>
#include <string_view>
#include <vector>

#include "client/remote.h"
#include "protocol/calls.h"
#include "transport/transport.h"

namespace rrto::client {

// Connects `remote` and opens the session; `result` as handshake() gives it.
// CUDA_ERROR_NO_DEVICE when no server can be reached, said in one line
// (with a hint at RRTO_SERVER unless `servers_given`).
CUresult open_session(Remote& remote, const std::vector<transport::ConnectOptions>& servers, bool servers_given,
                      const std::string& auth_key, std::string_view client_name, proto::HelloResult& result);

// Re-opens a lost session in its address window `window` on one of
// `servers`, least loaded first, following no redirect (failover).
CUresult resume_session(Remote& remote, const std::vector<transport::ConnectOptions>& servers,
                        const std::string& auth_key, std::string_view client_name, uint64_t window,
                        proto::HelloResult& result);

}  // namespace rrto::client

// The client's side of the session handshake (protocol/handshake.h): the
// server proves it knows the key before the client sends anything else, then
// the client proves it, and the server places the session on a device.
#pragma once

#include <cuda.h>

#include <string>
#include <string_view>

#include "client/remote.h"
#include "protocol/calls.h"

namespace rrto::client {

// On success `result` describes the session's device, or where the server
// sends the client instead, and the server's load (its byte strings point
// into the remote's last reply). CUDA_ERROR_NOT_PERMITTED when the server
// cannot prove it knows `auth_key` (or has none while the client has one),
// the server's refusal otherwise; either is logged once. `flags`:
// proto::HelloFlag; `window`: Hello::window.
CUresult handshake(Remote& remote, const std::string& auth_key, std::string_view client_name,
                   proto::HelloResult& result, uint32_t flags = 0, uint64_t window = 0);

}  // namespace rrto::client

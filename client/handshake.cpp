#include "client/handshake.h"

#include "common/log.h"
#include "protocol/handshake.h"

namespace rrto::client {

CUresult handshake(Remote& remote, const std::string& auth_key, std::string_view client_name,
                   proto::HelloResult& result, uint32_t flags, uint64_t window) {
  proto::ClientHandshake proofs(auth_key);
  proto::Hello hello;
  if (!ok(proofs.hello(client_name, hello))) {
    RRTO_ERROR("client", "no random bytes for the handshake's nonce");
    return CUDA_ERROR_OPERATING_SYSTEM;
  }
  hello.flags = flags;
  hello.window = window;
  proto::HelloChallenge challenge;
  CUresult r = remote.call(hello, &challenge);
  if (r == CUDA_SUCCESS) {
    proto::Authenticate authenticate;
    if (std::string why; !ok(proofs.answer(challenge, authenticate, why))) {
      RRTO_ERROR("client", "not using rrto-server: {}", why);
      return CUDA_ERROR_NOT_PERMITTED;
    }
    r = remote.call(authenticate, &result);
  }
  if (r == CUDA_ERROR_NOT_PERMITTED) {
    RRTO_ERROR("client", "rrto-server refused the session: this client's auth key (RRTO_AUTH_KEY) is missing or not "
                         "the server's");
    return r;
  }
  if (r != CUDA_SUCCESS) {
    RRTO_ERROR("client", "rrto-server refused the session (CUDA error {})", static_cast<int>(r));
    return r == CUDA_ERROR_DEVICE_UNAVAILABLE ? CUDA_ERROR_NO_DEVICE : r;
  }
  return CUDA_SUCCESS;
}

}  // namespace rrto::client

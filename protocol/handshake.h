// The session handshake's proofs: each side shows it knows the shared key
// without sending it. Both sides pick a fresh random nonce per connection and
// each proof is HMAC-SHA-256(key, role || client nonce || server nonce), so a
// recorded handshake proves nothing to a later connection and a server's
// proof cannot stand in for a client's. The messages are in calls.h (Hello,
// HelloChallenge, Authenticate); what the handshake does not do is encrypt
// anything after it.
//
// An empty key means that side has no key: a server without one sends no
// proof and accepts any client; a client without one sends no proof and
// cannot check the server.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "common/status.h"
#include "protocol/calls.h"

namespace rrto::proto {

inline constexpr size_t kNonceBytes = 32;
inline constexpr size_t kProofBytes = 32;  // SHA-256

using Nonce = std::array<uint8_t, kNonceBytes>;
using Proof = std::array<uint8_t, kProofBytes>;

class ClientHandshake {
 public:
  explicit ClientHandshake(std::string key) : key_(std::move(key)) {}

  // The first message, with a fresh nonce; its byte strings point into this
  // object. InternalError when no random bytes could be had.
  Status hello(Text client_name, Hello& out);
  // Checks the server's proof; on success `out` is the client's (pointing
  // into this object). On failure `why` says what the server failed to show.
  Status answer(const HelloChallenge& challenge, Authenticate& out, std::string& why);

 private:
  std::string key_;
  Nonce client_nonce_{};
  Proof proof_{};
};

class ServerHandshake {
 public:
  explicit ServerHandshake(std::string key) : key_(std::move(key)) {}

  bool has_key() const { return !key_.empty(); }
  // A Hello was answered and its Authenticate is awaited.
  bool challenged() const { return challenged_; }
  // Answers a Hello with a fresh nonce and the server's proof (pointing into
  // this object). InvalidArgument when the client's nonce is malformed,
  // InternalError when no random bytes could be had.
  Status challenge(const Hello& hello, HelloChallenge& out);
  // Whether the client proved the key over this connection's nonces (always
  // true without a key). Only once per challenge: a second try is false.
  bool verify(const Authenticate& authenticate);

 private:
  std::string key_;
  Nonce client_nonce_{}, server_nonce_{};
  Proof proof_{};
  bool challenged_ = false;
};

}  // namespace rrto::proto

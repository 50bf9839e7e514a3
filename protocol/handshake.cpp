#include "protocol/handshake.h"

#include <algorithm>
#include <string_view>
#include <utility>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

namespace rrto::proto {
namespace {

// Which side a proof speaks for: one side's proof is never the other's.
constexpr std::string_view kServerRole = "rrto handshake v2: server proof";
constexpr std::string_view kClientRole = "rrto handshake v2: client proof";

Status fresh_nonce(Nonce& out) {
  return RAND_bytes(out.data(), static_cast<int>(out.size())) == 1 ? Status::Ok : Status::InternalError;
}

Proof prove(std::string_view key, std::string_view role, const Nonce& client_nonce, const Nonce& server_nonce) {
  static_assert(kServerRole.size() <= 64 && kClientRole.size() <= 64);
  std::array<uint8_t, 64 + 2 * kNonceBytes> message{};
  const size_t length = role.size() + 2 * kNonceBytes;
  auto at = std::copy(role.begin(), role.end(), message.begin());
  at = std::copy(client_nonce.begin(), client_nonce.end(), at);
  std::copy(server_nonce.begin(), server_nonce.end(), at);
  Proof proof{};
  unsigned int proof_length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), message.data(), length, proof.data(), &proof_length);
  return proof;
}

// Constant time: how long it takes says nothing about how much of a guess was right.
bool same_proof(const Proof& expected, Bytes given) {
  return given.size() == expected.size() && CRYPTO_memcmp(expected.data(), given.data(), expected.size()) == 0;
}

bool read_nonce(Bytes bytes, Nonce& out) {
  if (bytes.size() != out.size()) return false;
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return true;
}

}  // namespace

Status ClientHandshake::hello(Text client_name, Hello& out) {
  if (Status s = fresh_nonce(client_nonce_); !ok(s)) return s;
  out = Hello{.client_nonce = Bytes(client_nonce_), .client_name = client_name};
  return Status::Ok;
}

Status ClientHandshake::answer(const HelloChallenge& challenge, Authenticate& out, std::string& why) {
  out = Authenticate{};
  if (key_.empty()) return Status::Ok;
  Nonce server_nonce;
  if (!read_nonce(challenge.server_nonce, server_nonce)) {
    why = "the server's nonce is malformed";
    return Status::ProtocolError;
  }
  if (challenge.server_proof.empty()) {
    why = "the server has no key, so it cannot prove it is the server that shares this client's key";
    return Status::InvalidArgument;
  }
  if (!same_proof(prove(key_, kServerRole, client_nonce_, server_nonce), challenge.server_proof)) {
    why = "the server could not prove it knows the key (its key differs from this client's)";
    return Status::InvalidArgument;
  }
  proof_ = prove(key_, kClientRole, client_nonce_, server_nonce);
  out.client_proof = Bytes(proof_);
  return Status::Ok;
}

Status ServerHandshake::challenge(const Hello& hello, HelloChallenge& out) {
  challenged_ = false;
  out = HelloChallenge{};
  if (!read_nonce(hello.client_nonce, client_nonce_)) return Status::InvalidArgument;
  if (Status s = fresh_nonce(server_nonce_); !ok(s)) return s;
  out.server_nonce = Bytes(server_nonce_);
  if (has_key()) {
    proof_ = prove(key_, kServerRole, client_nonce_, server_nonce_);
    out.server_proof = Bytes(proof_);
  }
  challenged_ = true;
  return Status::Ok;
}

bool ServerHandshake::verify(const Authenticate& authenticate) {
  if (!std::exchange(challenged_, false)) return false;
  return !has_key() || same_proof(prove(key_, kClientRole, client_nonce_, server_nonce_), authenticate.client_proof);
}

}  // namespace rrto::proto

// The handshake's proofs: what each side accepts.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "protocol/handshake.h"

namespace rrto::proto {
namespace {

constexpr const char* kKey = "protocol-test-key-0123456789";

// A client's Hello answered by the server; both objects keep the bytes.
struct Exchange {
  ClientHandshake client{kKey};
  ServerHandshake server{kKey};
  Hello hello;
  HelloChallenge challenge;
  Exchange() {
    REQUIRE(ok(client.hello("test", hello)));
    REQUIRE(ok(server.challenge(hello, challenge)));
  }
  // The client's answer to the challenge (its proof is kept by `client`).
  Authenticate answer() {
    Authenticate authenticate;
    std::string why;
    REQUIRE_MESSAGE(ok(client.answer(challenge, authenticate, why)), why);
    return authenticate;
  }
};

TEST_CASE("both sides accept each other's proofs of the same key") {
  Exchange x;
  const Authenticate authenticate = x.answer();
  CHECK(x.server.verify(authenticate));
}

TEST_CASE("the server's proof does not pass as the client's") {
  Exchange x;
  const std::vector<uint8_t> reflected(x.challenge.server_proof.begin(), x.challenge.server_proof.end());
  CHECK_FALSE(x.server.verify(Authenticate{.client_proof = reflected}));
}

TEST_CASE("a proof is checked once per challenge") {
  Exchange x;
  const Authenticate authenticate = x.answer();
  CHECK(x.server.verify(authenticate));
  CHECK_FALSE(x.server.verify(authenticate));
}

TEST_CASE("a malformed nonce gets no challenge, and a malformed proof no admission") {
  ServerHandshake server{kKey};
  const std::vector<uint8_t> short_nonce(kNonceBytes - 1, 1);
  HelloChallenge challenge;
  CHECK(server.challenge(Hello{.client_nonce = short_nonce}, challenge) == Status::InvalidArgument);
  CHECK_FALSE(server.challenged());

  Exchange x;
  const Authenticate authenticate = x.answer();
  const std::vector<uint8_t> truncated(authenticate.client_proof.begin(), authenticate.client_proof.end() - 1);
  CHECK_FALSE(x.server.verify(Authenticate{.client_proof = truncated}));
}

}  // namespace
}  // namespace rrto::proto

// The client's handshake against a stand-in server that speaks it
// (proto::ServerHandshake): what goes on the wire, and which servers the
// client refuses before it sends anything else.
#include <doctest/doctest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "client/handshake.h"
#include "fake_connection.h"
#include "protocol/handshake.h"

namespace rrto::client {
namespace {

constexpr const char* kKey = "client-test-key-0123456789";

// Answers Hello and Authenticate as rrto-server does, and records every byte
// the client sends. `replayed_challenge`, when set, is what it answers every
// Hello with: a challenge recorded from another connection.
class HandshakeServer final : public transport::ClientConnection {
 public:
  HandshakeServer(std::string key, std::vector<SentBatch>& sent) : handshake_(std::move(key)), sent_(sent) {}

  std::optional<std::vector<uint8_t>> replayed_challenge;
  std::vector<uint8_t> last_challenge;

  Status call(uint16_t, std::span<const uint8_t> meta, std::span<const transport::Segment> bulk,
              transport::Reply& reply) override {
    SentBatch& b = sent_.emplace_back();
    b.meta.assign(meta.begin(), meta.end());
    for (const auto& s : bulk)
      b.bulk.insert(b.bulk.end(), static_cast<const uint8_t*>(s.data), static_cast<const uint8_t*>(s.data) + s.length);
    const std::vector<proto::CallView> calls = calls_of(meta);
    REQUIRE(calls.size() == 1);
    reply.opcode = proto::kBatchReply;
    reply.meta.clear();
    reply.bulk_received = 0;
    ByteWriter w(reply.meta);
    uint32_t status = CUDA_SUCCESS;
    std::vector<uint8_t> body;
    ByteWriter result(body);
    if (calls[0].op == proto::CallOp::Hello) {
      proto::HelloChallenge challenge;
      REQUIRE(ok(handshake_.challenge(decode<proto::Hello>(calls[0]), challenge)));
      proto::encode_fields(result, challenge);
      last_challenge = body;
      if (replayed_challenge) body = *replayed_challenge;
    } else if (handshake_.verify(decode<proto::Authenticate>(calls[0]))) {
      proto::HelloResult device{.session_id = 1, .device_name = "stand-in"};
      proto::encode_fields(result, device);
    } else {
      status = CUDA_ERROR_NOT_PERMITTED;
    }
    proto::encode_reply_header(w, {.status = status, .call_index = 0});
    w.put_bytes(body.data(), body.size());
    return Status::Ok;
  }
  std::string transport_name() const override { return "handshake stand-in"; }
  void set_silence_limit(int) override {}

 private:
  proto::ServerHandshake handshake_;
  std::vector<SentBatch>& sent_;
};

struct Fixture {
  explicit Fixture(std::string server_key) {
    auto connection = std::make_unique<HandshakeServer>(std::move(server_key), sent);
    server = connection.get();
    remote.attach(std::move(connection), "stand-in");
  }
  CUresult run(const std::string& client_key) { return handshake(remote, client_key, "handshake_test", result); }

  std::vector<SentBatch> sent;
  HandshakeServer* server = nullptr;
  Remote remote;
  proto::HelloResult result;
};

bool contains(const std::vector<uint8_t>& bytes, std::string_view text) {
  return std::search(bytes.begin(), bytes.end(), text.begin(), text.end()) != bytes.end();
}

TEST_CASE("the handshake proves the key without sending it") {
  Fixture f(kKey);
  REQUIRE(f.run(kKey) == CUDA_SUCCESS);
  CHECK(f.result.device_name == "stand-in");
  REQUIRE(f.sent.size() == 2);
  CHECK(calls_of(f.sent[0].meta)[0].op == proto::CallOp::Hello);
  CHECK(decode<proto::Hello>(calls_of(f.sent[0].meta)[0]).client_nonce.size() == proto::kNonceBytes);
  CHECK(decode<proto::Authenticate>(calls_of(f.sent[1].meta)[0]).client_proof.size() == proto::kProofBytes);
  for (const SentBatch& b : f.sent) {
    CHECK_FALSE(contains(b.meta, kKey));
    CHECK_FALSE(contains(b.bulk, kKey));
  }
}

TEST_CASE("each handshake has a fresh nonce") {
  Fixture a(kKey), b(kKey);
  REQUIRE(a.run(kKey) == CUDA_SUCCESS);
  REQUIRE(b.run(kKey) == CUDA_SUCCESS);
  CHECK(a.sent[0].meta != b.sent[0].meta);
  CHECK(a.sent[1].meta != b.sent[1].meta);
}

TEST_CASE("the client refuses a server that cannot prove the key, and sends nothing after Hello") {
  SUBCASE("a server with another key") {
    Fixture f("another-key-0123456789abcdef");
    CHECK(f.run(kKey) == CUDA_ERROR_NOT_PERMITTED);
    CHECK(f.sent.size() == 1);
  }
  SUBCASE("a server without a key") {
    Fixture f("");
    CHECK(f.run(kKey) == CUDA_ERROR_NOT_PERMITTED);
    CHECK(f.sent.size() == 1);
  }
  SUBCASE("a server's challenge recorded from an earlier handshake, replayed") {
    Fixture earlier(kKey);
    REQUIRE(earlier.run(kKey) == CUDA_SUCCESS);
    Fixture f(kKey);
    f.server->replayed_challenge = earlier.server->last_challenge;
    CHECK(f.run(kKey) == CUDA_ERROR_NOT_PERMITTED);
    CHECK(f.sent.size() == 1);
  }
}

TEST_CASE("a client without the key is refused by a server that has one") {
  Fixture f(kKey);
  CHECK(f.run("") == CUDA_ERROR_NOT_PERMITTED);
  REQUIRE(f.sent.size() == 2);
  CHECK(decode<proto::Authenticate>(calls_of(f.sent[1].meta)[0]).client_proof.empty());
}

TEST_CASE("without keys on either side the handshake needs no proof") {
  Fixture f("");
  CHECK(f.run("") == CUDA_SUCCESS);
}

}  // namespace
}  // namespace rrto::client

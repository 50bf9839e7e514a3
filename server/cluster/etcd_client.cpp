#include "server/cluster/etcd_client.h"

#include <openssl/evp.h>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <fmt/format.h>

namespace rrto::server::cluster {
namespace {

using nlohmann::json;

std::string base64(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

bool unbase64(const std::string& text, std::string& out) {
  if (text.size() % 4 != 0) return false;
  out.assign(3 * (text.size() / 4) + 1, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return false;
  size_t padding = 0;  // EVP_DecodeBlock counts the padding as zero bytes
  for (size_t i = text.size(); i > 0 && text[i - 1] == '='; --i) ++padding;
  out.resize(static_cast<size_t>(n) - padding);
  return true;
}

// The gateway writes int64 values as strings; either is read.
int64_t int64_field(const json& o, const char* key) {
  const auto it = o.find(key);
  if (it == o.end()) return 0;
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_string()) return std::strtoll(it->get<std::string>().c_str(), nullptr, 10);
  return 0;
}

// The first key after every key that starts with `prefix` (etcd's range_end).
std::string prefix_end(std::string prefix) {
  while (!prefix.empty() && static_cast<unsigned char>(prefix.back()) == 0xff) prefix.pop_back();
  if (prefix.empty()) return std::string(1, '\0');  // every key
  prefix.back() = static_cast<char>(static_cast<unsigned char>(prefix.back()) + 1);
  return prefix;
}

}  // namespace

EtcdClient::EtcdClient(std::vector<config::ServerAddress> members, std::chrono::milliseconds timeout)
    : members_(std::move(members)), timeout_(timeout) {}

Status EtcdClient::post(const std::string& path, const std::string& body, std::string& reply) {
  std::string problems;
  for (size_t tried = 0; tried < members_.size(); ++tried) {
    const size_t i = (next_ + tried) % members_.size();
    const config::ServerAddress& m = members_[i];
    httplib::Client client(m.host, m.port);
    client.set_connection_timeout(timeout_);
    client.set_read_timeout(timeout_);
    client.set_write_timeout(timeout_);
    const httplib::Result result = client.Post(path, body, "application/json");
    if (!result) {
      problems += fmt::format("{}{}:{}: {}", problems.empty() ? "" : "; ", m.host, m.port,
                              httplib::to_string(result.error()));
      continue;
    }
    next_ = i;
    reply = result->body;
    if (result->status == 200) return Status::Ok;
    json why = json::parse(result->body, nullptr, false);
    error_ = fmt::format("{}:{} answered {} to {}: {}", m.host, m.port, result->status, path,
                         why.is_object() && why.contains("error") && why["error"].is_string()
                             ? why["error"].get<std::string>()
                             : result->body.substr(0, 200));
    return why.is_object() && int64_field(why, "code") == 5 ? Status::NotFound : Status::IoError;
  }
  error_ = fmt::format("no etcd member answered ({})", problems);
  return Status::Unreachable;
}

Status EtcdClient::grant(std::chrono::seconds ttl, int64_t& lease) {
  std::string reply;
  if (Status s = post("/v3/lease/grant", json{{"TTL", ttl.count()}}.dump(), reply); !ok(s)) return s;
  const json r = json::parse(reply, nullptr, false);
  lease = r.is_object() ? int64_field(r, "ID") : 0;
  if (lease != 0) return Status::Ok;
  error_ = "a lease grant without a lease: " + reply.substr(0, 200);
  return Status::ProtocolError;
}

Status EtcdClient::keep_alive(int64_t lease) {
  std::string reply;
  if (Status s = post("/v3/lease/keepalive", json{{"ID", lease}}.dump(), reply); !ok(s)) return s;
  const json r = json::parse(reply, nullptr, false);
  // An ended lease comes back with no time to live.
  if (r.is_object() && r.contains("result") && r["result"].is_object() && int64_field(r["result"], "TTL") > 0)
    return Status::Ok;
  error_ = fmt::format("lease {:x} has ended", lease);
  return Status::NotFound;
}

Status EtcdClient::revoke(int64_t lease) {
  std::string reply;
  return post("/v3/lease/revoke", json{{"ID", lease}}.dump(), reply);
}

Status EtcdClient::put(const std::string& key, const std::string& value, int64_t lease) {
  json body{{"key", base64(key)}, {"value", base64(value)}};
  if (lease != 0) body["lease"] = lease;
  std::string reply;
  return post("/v3/kv/put", body.dump(), reply);
}

Status EtcdClient::put_if_absent(const std::string& key, const std::string& value, int64_t lease, bool& created) {
  json put{{"key", base64(key)}, {"value", base64(value)}};
  if (lease != 0) put["lease"] = lease;
  // A key that does not exist has created_revision 0.
  const json body{{"compare", json::array({{{"target", "CREATE"}, {"key", base64(key)}, {"create_revision", 0}}})},
                  {"success", json::array({{{"request_put", put}}})}};
  std::string reply;
  if (Status s = post("/v3/kv/txn", body.dump(), reply); !ok(s)) return s;
  const json r = json::parse(reply, nullptr, false);
  if (!r.is_object()) {
    error_ = "a txn reply that is not JSON";
    return Status::ProtocolError;
  }
  created = r.value("succeeded", false);
  return Status::Ok;
}

Status EtcdClient::remove(const std::string& key) {
  std::string reply;
  return post("/v3/kv/deleterange", json{{"key", base64(key)}}.dump(), reply);
}

Status EtcdClient::get_prefix(const std::string& prefix, std::vector<std::pair<std::string, std::string>>& out) {
  std::string reply;
  const json body{{"key", base64(prefix)}, {"range_end", base64(prefix_end(prefix))}};
  if (Status s = post("/v3/kv/range", body.dump(), reply); !ok(s)) return s;
  const json r = json::parse(reply, nullptr, false);
  out.clear();
  if (!r.is_object()) {
    error_ = "a range reply that is not JSON";
    return Status::ProtocolError;
  }
  for (const json& kv : r.value("kvs", json::array())) {
    std::string key, value;
    if (!kv.is_object() || !unbase64(kv.value("key", ""), key) || !unbase64(kv.value("value", ""), value)) {
      error_ = "a range reply with a malformed key or value";
      return Status::ProtocolError;
    }
    out.emplace_back(std::move(key), std::move(value));
  }
  return Status::Ok;
}

}  // namespace rrto::server::cluster

// A client of etcd's v3 API through its JSON gateway (HTTP/1.1 POSTs of JSON
// to /v3/...; etcd 3.4 serves it on its client port): leases, and keys under
// them. The gateway rather than gRPC: it needs only the HTTP client of
// cpp-httplib, which the status endpoint already uses, where gRPC would bring
// protobuf code generation from etcd's own .proto files.
//
// Each call tries the members in turn, starting with the last that answered;
// it fails (Status::Unreachable) only when none answers. Keys and values are
// bytes; the gateway carries them base64-encoded.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "config/config.h"

namespace rrto::server::cluster {

class EtcdClient {
 public:
  // `timeout` bounds each request to each member.
  explicit EtcdClient(std::vector<config::ServerAddress> members,
                      std::chrono::milliseconds timeout = std::chrono::milliseconds(500));

  // A lease that ends `ttl` after its last keep_alive.
  Status grant(std::chrono::seconds ttl, int64_t& lease);
  // NotFound when the lease has ended already.
  Status keep_alive(int64_t lease);
  Status revoke(int64_t lease);
  // `lease` 0: the key outlives every lease.
  Status put(const std::string& key, const std::string& value, int64_t lease);
  // As put(), only if the key does not exist; `created` says whether it did not.
  Status put_if_absent(const std::string& key, const std::string& value, int64_t lease, bool& created);
  // Every key starting with `prefix`, with its value, in key order.
  Status get_prefix(const std::string& prefix, std::vector<std::pair<std::string, std::string>>& out);
  Status remove(const std::string& key);

  // What went wrong in the last failed call.
  const std::string& error() const { return error_; }

 private:
  // POSTs `body` to `path` on the members in turn; `reply` is the first
  // answer's body.
  Status post(const std::string& path, const std::string& body, std::string& reply);

  std::vector<config::ServerAddress> members_;
  std::chrono::milliseconds timeout_;
  size_t next_ = 0;  // the member that answered last
  std::string error_;
};

}  // namespace rrto::server::cluster

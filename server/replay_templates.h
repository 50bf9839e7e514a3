// The templates a session registered: operator sequences its client found
// repeating once per inference, run again by ReplaySegment calls.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/limits.h"
#include "common/status.h"
#include "protocol/calls.h"
#include "server/batch_decoder.h"

namespace rrto::server {

class TemplateStore {
 public:
  // Bounds on what one client may make the server keep: the template count
  // and operators per template are common/limits.h's, shared with the client.
  static constexpr size_t kMaxTemplateBytes = limits::kTemplateBytes;

  struct Template {
    std::vector<uint8_t> encoded;    // the calls as received; `calls` point into it
    std::vector<DecodedCall> calls;
    // What keeping it costs: its bytes and its decoded calls.
    uint64_t bytes() const { return encoded.size() + calls.size() * sizeof(DecodedCall); }
  };

  // The most all templates together may take (Template::bytes); 0: none
  // beyond the per-template bounds.
  void set_byte_limit(uint64_t bytes) { byte_limit_ = bytes; }
  uint64_t bytes() const { return bytes_; }

  // Keeps a copy of the template; replaces one with the same id. OutOfRange
  // past a bound, ProtocolError for a malformed template; `why` says which.
  Status add(uint32_t id, std::span<const uint8_t> calls, std::string& why);
  // proto::kAllTemplates drops them all.
  void drop(uint32_t id);
  const Template* find(uint32_t id) const;
  size_t size() const { return templates_.size(); }
  size_t graph_templates() const { return graph_templates_; }
  static bool is_graph_template(uint32_t id) { return id >= limits::kGraphTemplateIds && id != proto::kAllTemplates; }

 private:
  std::unordered_map<uint32_t, std::unique_ptr<Template>> templates_;
  uint64_t byte_limit_ = 0;
  uint64_t bytes_ = 0;
  size_t graph_templates_ = 0;
};

}  // namespace rrto::server

#include "server/replay_templates.h"

#include <algorithm>

#include <fmt/format.h>

#include "common/limits.h"
#include "protocol/calls.h"

namespace rrto::server {

Status TemplateStore::add(uint32_t id, std::span<const uint8_t> calls, std::string& why) {
  if (calls.size() > kMaxTemplateBytes) {
    why = fmt::format("template {} is {} bytes, more than the {} a session may register", id, calls.size(),
                      kMaxTemplateBytes);
    return Status::OutOfRange;
  }
  // The program's CUDA graphs are counted apart from the templates the
  // client's matcher found (common/limits.h).
  const bool graph = is_graph_template(id);
  const size_t held = graph ? graph_templates_ : templates_.size() - graph_templates_;
  const uint32_t most = graph ? limits::kGraphTemplates : limits::kReplayTemplates;
  if (!templates_.count(id) && held >= most) {
    why = fmt::format("a session may register at most {} {}templates", most, graph ? "graph " : "");
    return Status::OutOfRange;
  }
  auto t = std::make_unique<Template>();
  t->encoded.assign(calls.begin(), calls.end());
  if (const Status s = decode_template(t->encoded, limits::kTemplateOperators, t->calls, why); !ok(s)) return s;
  const Template* replaced = find(id);
  const uint64_t others = bytes_ - (replaced ? replaced->bytes() : 0);
  if (byte_limit_ && t->bytes() > byte_limit_ - std::min(byte_limit_, others)) {
    why = fmt::format("template {} takes {} bytes; with the others it would pass the session's {}", id, t->bytes(),
                      byte_limit_);
    return Status::OutOfRange;
  }
  bytes_ = others + t->bytes();
  if (!replaced && graph) ++graph_templates_;
  templates_[id] = std::move(t);
  return Status::Ok;
}

void TemplateStore::drop(uint32_t id) {
  if (id == proto::kAllTemplates) {
    templates_.clear();
    bytes_ = 0;
    graph_templates_ = 0;
  } else if (auto it = templates_.find(id); it != templates_.end()) {
    bytes_ -= it->second->bytes();
    if (is_graph_template(id)) --graph_templates_;
    templates_.erase(it);
  }
}

const TemplateStore::Template* TemplateStore::find(uint32_t id) const {
  auto it = templates_.find(id);
  return it == templates_.end() ? nullptr : it->second.get();
}

}  // namespace rrto::server

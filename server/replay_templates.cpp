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
  if (!templates_.count(id) && templates_.size() >= limits::kReplayTemplates) {
    why = fmt::format("a session may register at most {} templates", limits::kReplayTemplates);
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
  templates_[id] = std::move(t);
  return Status::Ok;
}

void TemplateStore::drop(uint32_t id) {
  if (id == proto::kAllTemplates) {
    templates_.clear();
    bytes_ = 0;
  } else if (auto it = templates_.find(id); it != templates_.end()) {
    bytes_ -= it->second->bytes();
    templates_.erase(it);
  }
}

const TemplateStore::Template* TemplateStore::find(uint32_t id) const {
  auto it = templates_.find(id);
  return it == templates_.end() ? nullptr : it->second.get();
}

}  // namespace rrto::server

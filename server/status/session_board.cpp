#include "server/status/session_board.h"

#include <utility>

namespace rrto::server {

void SessionBoard::add(SessionInfo info) {
  std::lock_guard lock(mutex_);
  const uint64_t id = info.id;
  sessions_.insert_or_assign(id, std::move(info));
}

std::optional<SessionInfo> SessionBoard::remove(uint64_t id) {
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return std::nullopt;
  SessionInfo info = std::move(it->second);
  sessions_.erase(it);
  return info;
}

std::vector<SessionInfo> SessionBoard::list() const {
  std::lock_guard lock(mutex_);
  std::vector<SessionInfo> out;
  out.reserve(sessions_.size());
  for (const auto& [id, info] : sessions_) out.push_back(info);
  return out;
}

}  // namespace rrto::server

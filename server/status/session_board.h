// What the status endpoint shows of each session, published by the thread
// that runs the session and read by the status thread, which never touches a
// Session. A small mutex guards it; each holder only copies a few values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace rrto::server {

struct SessionInfo {
  uint64_t id = 0;
  std::string client;  // as the client named itself in Hello (made printable)
  std::string peer;    // its address
  size_t device = 0;
  uint64_t memory_bytes = 0;  // allocated, as of its last batch
  size_t templates = 0;       // replay templates registered
  uint64_t batches = 0;       // requests run
};

class SessionBoard {
 public:
  void add(SessionInfo info);
  // Runs `change(info)` on the session's entry, under the lock; false if it
  // is not on the board.
  template <typename Change>
  bool update(uint64_t id, Change&& change) {
    std::lock_guard lock(mutex_);
    auto it = sessions_.find(id);
    if (it == sessions_.end()) return false;
    change(it->second);
    return true;
  }
  // Takes the session off the board; its last entry, if it was on.
  std::optional<SessionInfo> remove(uint64_t id);
  // By session id.
  std::vector<SessionInfo> list() const;

 private:
  mutable std::mutex mutex_;
  std::map<uint64_t, SessionInfo> sessions_;
};

}  // namespace rrto::server

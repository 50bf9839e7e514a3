// A session's map from the ids its client minted (modules, functions,
// streams, events) to the server's objects for them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>

namespace rrto::server {

template <typename Value>
class HandleMap {
 public:
  // False if id is 0 (the null handle) or already in use.
  bool insert(uint64_t id, const Value& value) {
    if (id == 0) return false;
    return map_.emplace(id, value).second;
  }
  // nullptr if the id is unknown.
  Value* find(uint64_t id) {
    auto it = map_.find(id);
    return it == map_.end() ? nullptr : &it->second;
  }
  const Value* find(uint64_t id) const {
    auto it = map_.find(id);
    return it == map_.end() ? nullptr : &it->second;
  }
  bool erase(uint64_t id) { return map_.erase(id) != 0; }
  // Erases while iterating; returns the next position.
  auto erase(typename std::unordered_map<uint64_t, Value>::iterator at) { return map_.erase(at); }

  size_t size() const { return map_.size(); }
  bool empty() const { return map_.empty(); }
  void clear() { map_.clear(); }
  auto begin() { return map_.begin(); }
  auto end() { return map_.end(); }
  auto begin() const { return map_.begin(); }
  auto end() const { return map_.end(); }

 private:
  std::unordered_map<uint64_t, Value> map_;
};

}  // namespace rrto::server

// The misbehaving client's counts: attempts per kind and what became of them.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "perf/soak/peer.h"

namespace rrto::soak {

class Tally {
 public:
  // Thread-safe.
  void add(const std::string& kind, Outcome outcome);
  // {"attempts", "refused", "kinds": {kind: {"attempts", outcome: count...}}}: attempts and refusals in
  // all, and per kind each outcome's count.
  nlohmann::json json() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::map<Outcome, uint64_t>> counts_;
};

}  // namespace rrto::soak

#include "perf/soak/tally.h"

namespace rrto::soak {

void Tally::add(const std::string& kind, Outcome outcome) {
  std::lock_guard lock(mutex_);
  ++counts_[kind][outcome];
}

nlohmann::json Tally::json() const {
  std::lock_guard lock(mutex_);
  uint64_t attempts = 0, refusals = 0;
  nlohmann::json kinds = nlohmann::json::object();
  for (const auto& [kind, outcomes] : counts_) {
    nlohmann::json k = {{"attempts", 0}};
    for (Outcome o : kOutcomes) {
      const auto found = outcomes.find(o);
      const uint64_t n = found == outcomes.end() ? 0 : found->second;
      k[outcome_name(o)] = n;
      k["attempts"] = k["attempts"].get<uint64_t>() + n;
      attempts += n;
      if (refused(o)) refusals += n;
    }
    kinds[kind] = k;
  }
  return {{"attempts", attempts}, {"refused", refusals}, {"kinds", kinds}};
}

}  // namespace rrto::soak

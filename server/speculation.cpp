#include "server/speculation.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "common/limits.h"
#include "protocol/calls.h"
#include "server/session.h"

namespace rrto::server {

bool holds_device_pointers(std::span<const uint8_t> bytes, const AllocationTable& allocations) {
  if (allocations.empty()) return false;
  const uint64_t lowest = allocations.begin()->first;
  const auto& last = std::prev(allocations.end())->second;
  const uint64_t end = last.base + last.size;
  for (size_t at = 0; at + 8 <= bytes.size(); at += 8) {
    uint64_t word;
    std::memcpy(&word, bytes.data() + at, 8);
    if (word >= lowest && word < end && allocations.find_range(word, 1)) return true;
  }
  return false;
}

uint32_t Speculation::plan(const AllocationTable& allocations, std::span<const DecodedCall> calls,
                           std::vector<uint64_t>& bases) const {
  auto add = [&](uint64_t p, uint64_t n) {
    // A kernel may write all the memory mapped back to back with what it is given.
    const AllocationTable::Entry* e = allocations.contains(p, n) ? allocations.find_range(p, n ? 1 : 0) : nullptr;
    if (e)
      allocations.for_each_joined(*e, [&](const AllocationTable::Entry& joined) { bases.push_back(joined.base); });
  };
  uint64_t outputs = 0;
  for (const DecodedCall& c : calls) {
    if (!proto::runs_ahead(proto::call_op(c.call))) return proto::kSpecUnsupportedCall;
    if (const auto* launch = std::get_if<proto::Launch>(&c.call)) {
      for (size_t at = 0; at + 8 <= launch->params.size(); at += 8) {
        uint64_t word;
        std::memcpy(&word, launch->params.data() + at, 8);
        add(word, 1);
      }
    } else if (const auto* memset = std::get_if<proto::Memset>(&c.call)) {
      if (memset->count <= UINT64_MAX / 4) add(memset->dst, memset->count * memset->element_size);
    } else if (const auto* dtod = std::get_if<proto::MemcpyDtoD>(&c.call)) {
      add(dtod->dst, dtod->size);
    } else if (const auto* dtoh = std::get_if<proto::MemcpyDtoH>(&c.call)) {
      outputs += dtoh->size;
    }
  }
  if (outputs > limits::kSpeculationOutputBytes) return proto::kSpecOutputsTooLarge;
  std::sort(bases.begin(), bases.end());
  bases.erase(std::unique(bases.begin(), bases.end()), bases.end());
  uint64_t bytes = 0;
  for (uint64_t base : bases) bytes += allocations.find_base(base)->size;
  return bytes > limits::kSpeculationSavedBytes ? proto::kSpecTooMuchMemory : proto::kSpeculated;
}

uint32_t Speculation::save(Session& session, std::span<const uint64_t> bases) {
  // The segment's work must be done before its results are read.
  if (session.ctx_synchronize() != CUDA_SUCCESS) return proto::kSpecFailed;
  if (saved_.size() < bases.size()) saved_.resize(bases.size());
  saved_count_ = 0;
  for (uint64_t base : bases) {
    std::span<const uint8_t> bytes;
    if (session.memcpy_dtoh(base, session.allocations().find_base(base)->size, 0, bytes) != CUDA_SUCCESS)
      return proto::kSpecFailed;
    if (holds_device_pointers(bytes, session.allocations())) return proto::kSpecPointerArrays;
    Saved& slot = saved_[saved_count_++];
    slot.base = base;
    slot.bytes.assign(bytes.begin(), bytes.end());
  }
  return proto::kSpeculated;
}

uint32_t Speculation::begin(Session& session, uint32_t tmpl, uint32_t first, std::span<const DecodedCall> calls) {
  outstanding_ = false;
  std::vector<uint64_t> bases;
  uint32_t verdict = plan(session.allocations(), calls, bases);
  const auto start = std::chrono::steady_clock::now();
  if (verdict == proto::kSpeculated) verdict = save(session, bases);
  save_ns_ = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count();
  if (verdict != proto::kSpeculated) return verdict;
  outstanding_ = true;
  tmpl_ = tmpl;
  first_ = first;
  count_ = static_cast<uint32_t>(calls.size());
  return verdict;
}

CUresult Speculation::restore(Session& session) {
  for (size_t i = 0; i < saved_count_; ++i) {
    const Saved& s = saved_[i];
    if (!session.allocations().find_base(s.base)) continue;  // forgotten
    if (CUresult r = session.memcpy_htod(s.base, s.bytes, 0)) return r;
  }
  // The copies read the saved bytes, which the next speculation overwrites.
  return session.ctx_synchronize();
}

void Speculation::end() {
  outstanding_ = false;
  for (Saved& slot : saved_)
    if (slot.bytes.capacity() > kKeptSlotBytes) std::vector<uint8_t>().swap(slot.bytes);
}

void Speculation::forget(uint64_t base) {
  for (size_t i = 0; i < saved_count_; ++i)
    if (saved_[i].base == base) saved_[i].base = 0;
}

}  // namespace rrto::server

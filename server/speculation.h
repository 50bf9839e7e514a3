// Speculative continuation (DESIGN.md): after a replayed segment that ends
// at a synchronisation point, the server may go on with the template up to
// the next upload and return the later outputs with the same reply. Before
// it does, it saves every allocation the continuation may write: copy and
// memset destinations, and every allocation an aligned 8-byte word of a
// launch's parameters points into. A kernel can reach other memory only
// through pointers stored in device memory, so if any saved allocation holds
// such a word the continuation is refused (kSpecPointerArrays). When the
// program does not follow, SpeculationEnd puts the saved bytes back.
#pragma once

#include <cuda.h>

#include <cstdint>
#include <span>
#include <vector>

#include "server/allocation_table.h"
#include "server/batch_decoder.h"

namespace rrto::server {

class Session;

class Speculation {
 public:
  bool outstanding() const { return outstanding_; }
  uint32_t tmpl() const { return tmpl_; }
  uint32_t first() const { return first_; }  // the continuation's first operator
  uint32_t count() const { return count_; }
  uint64_t save_ns() const { return save_ns_; }  // what the latest begin() spent saving

  // Decides whether `calls` can run speculatively and, if so, saves what
  // they may write. Returns a proto::SpeculationVerdict; on kSpeculated the
  // speculation is outstanding until end().
  uint32_t begin(Session& session, uint32_t tmpl, uint32_t first, std::span<const DecodedCall> calls);
  // Puts the saved bytes back (each allocation that is still there).
  CUresult restore(Session& session);
  // Also gives back what large saves took: a session keeps at most
  // kKeptSlotBytes per saved allocation between speculations.
  void end();
  // An allocation was freed: nothing goes back into it.
  void forget(uint64_t base);

  // Storage that lives until the next speculation: the segment's own copy
  // to the host set aside, and the continuation's copies to the host.
  std::vector<uint8_t>& reply_bytes() { return reply_bytes_; }
  std::vector<uint8_t>& outputs() { return outputs_; }

 private:
  struct Saved {
    uint64_t base = 0;
    std::vector<uint8_t> bytes;
  };
  // The bases of the allocations `calls` may write, or the verdict against.
  uint32_t plan(const AllocationTable& allocations, std::span<const DecodedCall> calls,
                std::vector<uint64_t>& bases) const;
  uint32_t save(Session& session, std::span<const uint64_t> bases);

  static constexpr size_t kKeptSlotBytes = 1u << 20;

  bool outstanding_ = false;
  uint32_t tmpl_ = 0, first_ = 0, count_ = 0;
  uint64_t save_ns_ = 0;
  std::vector<Saved> saved_;  // slots reused from one speculation to the next
  size_t saved_count_ = 0;
  std::vector<uint8_t> reply_bytes_, outputs_;
};

// Whether `bytes` hold an 8-byte-aligned word that points into one of the
// allocations.
bool holds_device_pointers(std::span<const uint8_t> bytes, const AllocationTable& allocations);

}  // namespace rrto::server

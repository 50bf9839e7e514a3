// Fatbin containers (magic 0xBA55ED50): a header, then entries each with its
// own header and a payload that is a cubin, PTX text or LTO IR, possibly
// compressed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "module_image/bytes.h"
#include "module_image/elf.h"

namespace rrto {

constexpr uint32_t kFatbinMagic = 0xBA55ED50;

constexpr uint16_t kFatbinKindPtx = 1;
constexpr uint16_t kFatbinKindElf = 2;

struct FatbinEntry {
  uint16_t kind = 0;  // kFatbinKindPtx, kFatbinKindElf or another (LTO IR, ...)
  uint64_t flags = 0;
  uint32_t compressed_size = 0;
  uint64_t uncompressed_size = 0;
  Bytes payload;  // as stored, possibly compressed
};

// Reads a fatbin's entries in order, each entry's header and payload checked
// to lie inside the image.
class FatbinReader {
 public:
  // Fails when the fatbin header is malformed or claims more than `image`.
  Status open(Bytes image);
  // The next entry into `e`; false at the end or at a malformed entry (then
  // `status()` is the error).
  bool next(FatbinEntry& e);
  Status status() const { return status_; }
  // Where in the image the entry last read, or failed on, starts.
  uint64_t offset() const { return header_size_ + at_; }

 private:
  Bytes entries_;
  uint64_t header_size_ = 0;
  uint64_t at_ = 0, next_ = 0;
  Status status_ = Status::Ok;
};

// The entry's payload, decompressed into `storage` when it is compressed.
Status entry_data(const FatbinEntry& e, std::vector<uint8_t>& storage, Bytes& out);

struct FatbinContents {
  std::vector<CubinContents> cubins;          // one per ELF entry, in order
  std::vector<std::vector<KernelInfo>> ptxs;  // one per readable PTX entry, in order
  std::vector<Status> ptx_errors;             // one per PTX entry whose text does not parse
};

// Header size plus the size of all entries; reads nothing at or past max_bytes.
Status fatbin_image_size(const uint8_t* p, size_t max_bytes, size_t& size);

// Structural errors (headers, sizes, decompression, cubins, PTX without a NUL)
// fail the parse; a PTX entry whose text does not parse fails it only when
// there is no cubin.
Status parse_fatbin(Bytes image, FatbinContents& out);

}  // namespace rrto

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

struct FatbinContents {
  std::vector<CubinContents> cubins;          // one per ELF entry, in order
  std::vector<std::vector<KernelInfo>> ptxs;  // one per readable PTX entry, in order
  std::vector<Status> ptx_errors;             // one per PTX entry whose text does not parse
};

// Header size plus the size of all entries; reads nothing at or past max_bytes.
Status fatbin_image_size(const uint8_t* p, size_t max_bytes, size_t& size);

// Structural errors (headers, sizes, decompression, cubins) fail the parse; a
// PTX entry whose text does not parse fails it only when there is no cubin.
Status parse_fatbin(Bytes image, FatbinContents& out);

}  // namespace rrto

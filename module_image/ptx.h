// PTX text: kernel parameter layouts from `.entry name ( .param ... )`
// signatures, laid out the way the driver lays out the parameter buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "module_image/module_image.h"

namespace rrto {

// The text at `p` up to its NUL; false when no NUL lies in the first
// `max_bytes` (the driver takes PTX as a C string).
bool terminated_text(const uint8_t* p, size_t max_bytes, std::string_view& text);

// PTX modules start (after comments) with the `.version` directive.
bool looks_like_ptx(std::string_view text);

// Appends one KernelInfo per defined `.entry`, in order of appearance.
Status parse_ptx(std::string_view text, std::vector<KernelInfo>& kernels);

}  // namespace rrto

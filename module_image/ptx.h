// PTX text: kernel parameter layouts from `.entry name ( .param ... )`
// signatures, laid out the way the driver lays out the parameter buffer.
#pragma once

#include <string_view>
#include <vector>

#include "module_image/module_image.h"

namespace rrto {

// PTX modules start (after comments) with the `.version` directive.
bool looks_like_ptx(std::string_view text);

// Appends one KernelInfo per defined `.entry`, in order of appearance.
Status parse_ptx(std::string_view text, std::vector<KernelInfo>& kernels);

}  // namespace rrto

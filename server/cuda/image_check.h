// A bounds check of a module image before the real driver parses it.
//
// cuModuleLoadData takes a bare pointer: the driver finds the image's length
// inside the image (fatbin and ELF headers, or the NUL ending PTX text). A
// client could claim more bytes than it sent and make the driver read server
// memory past the received buffer, or send cudart's fatbin wrapper, which
// holds a pointer into the client's address space. This check refuses both;
// what lies inside an entry is left to the driver.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace rrto::server::cuda {

enum class ImageKind { Fatbin, Elf, Ptx };

// False with a reason when the image would lead the driver outside `image`.
// PTX is accepted as text; the caller must pass it NUL-terminated.
bool check_module_image(std::span<const uint8_t> image, ImageKind& kind, std::string& why);

}  // namespace rrto::server::cuda

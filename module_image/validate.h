// Whether a received module image is safe to hand to the real driver.
//
// cuModuleLoadData takes a bare pointer: the driver finds the image's length
// inside the image (fatbin and ELF headers, the NUL ending PTX text). A client
// could claim more bytes than it sent and make the driver read server memory
// past the received buffer, or send cudart's fatbin wrapper, which holds a
// pointer into the client's address space. Validation refuses both, using the
// parser's own bounds-checked reading; it does not look for kernels.
#pragma once

#include <string>

#include "common/status.h"
#include "module_image/bytes.h"
#include "module_image/module_image.h"

namespace rrto {

// Ok when everything the driver reads lies inside `image`: the fatbin header
// and every entry (cubin entries' ELF tables and sections inside their
// payload, decompressed where compressed; PTX entries NUL-terminated), a
// cubin's ELF header, tables and sections, or PTX text NUL-terminated within
// `image`. A fatbin wrapper is refused. Otherwise an error with `why` set.
// `kind` is the format the magic number names.
Status validate_module_image(Bytes image, ModuleImage::Kind& kind, std::string& why);

}  // namespace rrto

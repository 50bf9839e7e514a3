// The module-image parser (client side) and validator (server side) over
// arbitrary bytes, as a received image: exactly `size` bytes readable.
#include <string>

#include "fuzz/fuzz_input.h"
#include "module_image/image_kind.h"
#include "module_image/module_image.h"
#include "module_image/validate.h"

using namespace rrto;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ModuleImage::Kind kind{};
  std::string why;
  if (ok(validate_module_image({data, size}, kind, why))) {
    RRTO_FUZZ_CHECK(kind == image_kind(data, size) && kind != ModuleImage::Kind::FatbinWrapper);
  } else {
    RRTO_FUZZ_CHECK(!why.empty());
  }
  // A fatbin wrapper holds a pointer into the program that passed it: the
  // parser follows it by design (the server refuses wrappers, above).
  if (image_kind(data, size) == ModuleImage::Kind::FatbinWrapper) return 0;
  ModuleImage image;
  if (!ok(parse_module_image(data, size, image))) return 0;
  RRTO_FUZZ_CHECK(image.bytes.size() <= size);
  for (const GlobalInfo& g : image.globals) RRTO_FUZZ_CHECK(g.initial.empty() || g.initial.size() == g.size);
  return 0;
}

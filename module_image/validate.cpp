#include "module_image/validate.h"

#include <fmt/format.h>

#include <string_view>
#include <vector>

#include "module_image/elf.h"
#include "module_image/fatbin.h"
#include "module_image/image_kind.h"
#include "module_image/ptx.h"

namespace rrto {
namespace {

Status validate_cubin(Bytes image, std::string& why) {
  size_t size = 0;
  const Status st = elf_image_size(image.data(), image.size(), size);
  if (st == Status::NotSupported) {
    why = "not a 64-bit little-endian CUDA ELF image";
  } else if (!ok(st)) {
    why = fmt::format("the ELF header, its tables or a section lie outside the {} bytes", image.size());
  }
  return st;
}

Status validate_entry(const FatbinEntry& e, std::string& why) {
  if (e.kind != kFatbinKindElf && e.kind != kFatbinKindPtx) return Status::Ok;
  std::vector<uint8_t> storage;
  Bytes data;
  if (Status st = entry_data(e, storage, data); !ok(st)) {
    why = "its payload does not decompress from inside the entry";
    return st;
  }
  if (e.kind == kFatbinKindElf) return validate_cubin(data, why);
  std::string_view text;
  if (!terminated_text(data.data(), data.size(), text)) {
    why = "its PTX text has no NUL within the payload";
    return Status::InvalidArgument;
  }
  return Status::Ok;
}

Status validate_fatbin(Bytes image, std::string& why) {
  FatbinReader reader;
  if (Status st = reader.open(image); !ok(st)) {
    why = fmt::format("the fatbin header is malformed or claims more than the {} bytes", image.size());
    return st;
  }
  FatbinEntry e;
  while (reader.next(e)) {
    if (Status st = validate_entry(e, why); !ok(st)) {
      why = fmt::format("fatbin entry at byte {}: {}", reader.offset(), why);
      return st;
    }
  }
  if (!ok(reader.status())) {
    why = fmt::format("fatbin entry at byte {} is malformed or runs past the end of the image", reader.offset());
  }
  return reader.status();
}

Status validate_ptx(Bytes image, std::string& why) {
  std::string_view text;
  if (!terminated_text(image.data(), image.size(), text)) {
    why = fmt::format("PTX text without a NUL within the {} bytes", image.size());
    return Status::InvalidArgument;
  }
  if (!looks_like_ptx(text)) {
    why = "neither a cubin, a fatbin nor PTX text";
    return Status::InvalidArgument;
  }
  return Status::Ok;
}

}  // namespace

Status validate_module_image(Bytes image, ModuleImage::Kind& kind, std::string& why) {
  kind = image_kind(image.data(), image.size());
  switch (kind) {
    case ModuleImage::Kind::Cubin: return validate_cubin(image, why);
    case ModuleImage::Kind::Fatbin: return validate_fatbin(image, why);
    case ModuleImage::Kind::Ptx: return validate_ptx(image, why);
    case ModuleImage::Kind::FatbinWrapper:
      why = "a fatbin wrapper (it points into the client's memory); send the fatbin itself";
      return Status::InvalidArgument;
  }
  return Status::InternalError;
}

}  // namespace rrto

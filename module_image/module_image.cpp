#include "module_image/module_image.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <new>

#include "common/log.h"
#include "module_image/elf.h"
#include "module_image/fatbin.h"
#include "module_image/hash.h"
#include "module_image/image_kind.h"
#include "module_image/ptx.h"

namespace rrto {
namespace {

constexpr const char* kLog = "module_image";

// cudart's __fatBinC_Wrapper_t.
struct FatbinWrapper {
  int32_t magic;
  int32_t version;
  const unsigned long long* data;
  const void* filename_or_fatbins;
};

using KernelMap = std::map<std::string, KernelInfo, std::less<>>;

bool same_layout(const KernelInfo& a, const KernelInfo& b) {
  return a.param_bytes == b.param_bytes && a.params == b.params;
}

void add_kernels(std::vector<KernelInfo>& from, KernelMap& to) {
  for (KernelInfo& k : from) {
    auto it = to.find(k.name);
    if (it == to.end()) {
      std::string name = k.name;
      to.emplace(std::move(name), std::move(k));
    } else if (!same_layout(it->second, k)) {
      RRTO_WARN(kLog, "kernel {} has different parameter layouts in one module; using the first", k.name);
    }
  }
}

Status parse_fatbin_into(ModuleImage& out) {
  FatbinContents contents;
  if (Status st = parse_fatbin(out.bytes, contents); !ok(st)) return st;
  // Cubins first: the driver runs a cubin when it has one, PTX only otherwise.
  KernelMap kernels;
  for (CubinContents& c : contents.cubins) {
    add_kernels(c.kernels, kernels);
    for (GlobalInfo& g : c.globals) out.globals.push_back(std::move(g));
  }
  for (auto& ptx : contents.ptxs) add_kernels(ptx, kernels);
  for (auto& [name, k] : kernels) out.kernels.push_back(std::move(k));
  return Status::Ok;
}

Status copy_fatbin(const uint8_t* p, size_t max_bytes, ModuleImage& out) {
  size_t size = 0;
  if (Status st = fatbin_image_size(p, max_bytes, size); !ok(st)) return st;
  out.bytes.assign(p, p + size);
  return parse_fatbin_into(out);
}

Status copy_cubin(const uint8_t* p, size_t max_bytes, ModuleImage& out) {
  size_t size = 0;
  if (Status st = elf_image_size(p, max_bytes, size); !ok(st)) return st;
  out.bytes.assign(p, p + size);
  CubinContents c;
  if (Status st = parse_cubin(out.bytes, c); !ok(st)) return st;
  out.kernels = std::move(c.kernels);
  out.globals = std::move(c.globals);
  return Status::Ok;
}

Status follow_wrapper(const uint8_t* p, size_t max_bytes, ModuleImage& out) {
  FatbinWrapper w;
  if (max_bytes < sizeof(w)) return Status::InvalidArgument;
  std::memcpy(&w, p, sizeof(w));
  // Version 2 is what -rdc registration uses; `data` is a fatbin in both.
  if ((w.version != 1 && w.version != 2) || w.data == nullptr) return Status::InvalidArgument;
  return copy_fatbin(reinterpret_cast<const uint8_t*>(w.data), SIZE_MAX, out);
}

Status copy_ptx(const uint8_t* p, size_t max_bytes, ModuleImage& out) {
  std::string_view ptx;
  if (!terminated_text(p, max_bytes, ptx)) return Status::InvalidArgument;
  if (!looks_like_ptx(ptx)) {
    RRTO_WARN(kLog, "module image is neither a cubin, a fatbin, a fatbin wrapper nor PTX");
    return Status::InvalidArgument;
  }
  out.bytes.assign(p, p + ptx.size() + 1);
  std::vector<KernelInfo> kernels;
  if (Status st = parse_ptx(ptx, kernels); !ok(st)) return st;
  KernelMap unique;
  add_kernels(kernels, unique);
  for (auto& [name, k] : unique) out.kernels.push_back(std::move(k));
  return Status::Ok;
}

Status parse(const uint8_t* p, size_t max_bytes, ModuleImage& out) {
  out.kind = image_kind(p, max_bytes);
  switch (out.kind) {
    case ModuleImage::Kind::Cubin: return copy_cubin(p, max_bytes, out);
    case ModuleImage::Kind::Fatbin: return copy_fatbin(p, max_bytes, out);
    case ModuleImage::Kind::FatbinWrapper: return follow_wrapper(p, max_bytes, out);
    case ModuleImage::Kind::Ptx: return copy_ptx(p, max_bytes, out);
  }
  return Status::InternalError;
}

// By name, keeping the first of each name: a fatbin's cubins for several
// architectures each define the module's variables.
void sort_globals(std::vector<GlobalInfo>& globals) {
  std::stable_sort(globals.begin(), globals.end(),
                   [](const GlobalInfo& a, const GlobalInfo& b) { return a.name < b.name; });
  auto same_name = [](const GlobalInfo& a, const GlobalInfo& b) { return a.name == b.name; };
  for (auto it = std::adjacent_find(globals.begin(), globals.end(), same_name); it != globals.end();
       it = std::adjacent_find(it + 1, globals.end(), same_name)) {
    if (it->size != (it + 1)->size)
      RRTO_WARN(kLog, "variable {} has different sizes in one module; using the first", it->name);
  }
  globals.erase(std::unique(globals.begin(), globals.end(), same_name), globals.end());
}

}  // namespace

const GlobalInfo* ModuleImage::find_global(std::string_view name) const {
  auto it = std::lower_bound(globals.begin(), globals.end(), name,
                             [](const GlobalInfo& g, std::string_view n) { return g.name < n; });
  return it != globals.end() && it->name == name ? &*it : nullptr;
}

const KernelInfo* ModuleImage::find(std::string_view name) const {
  auto it = std::lower_bound(kernels.begin(), kernels.end(), name,
                             [](const KernelInfo& k, std::string_view n) { return k.name < n; });
  return it != kernels.end() && it->name == name ? &*it : nullptr;
}

const char* module_kind_name(ModuleImage::Kind kind) {
  switch (kind) {
    case ModuleImage::Kind::Cubin: return "cubin";
    case ModuleImage::Kind::Fatbin: return "fatbin";
    case ModuleImage::Kind::FatbinWrapper: return "fatbin wrapper";
    case ModuleImage::Kind::Ptx: return "ptx";
  }
  return "unknown";
}

Status parse_module_image(const void* image, size_t max_bytes, ModuleImage& out) {
  out = ModuleImage{};
  if (image == nullptr || max_bytes == 0) return Status::InvalidArgument;
  try {
    Status st = parse(static_cast<const uint8_t*>(image), max_bytes, out);
    if (!ok(st)) return st;
  } catch (const std::bad_alloc&) {
    return Status::OutOfMemory;
  } catch (...) {
    return Status::InternalError;
  }
  std::sort(out.kernels.begin(), out.kernels.end(),
            [](const KernelInfo& a, const KernelInfo& b) { return a.name < b.name; });
  sort_globals(out.globals);
  out.content_hash = xxh64(out.bytes.data(), out.bytes.size());
  return Status::Ok;
}

}  // namespace rrto

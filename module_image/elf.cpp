#include "module_image/elf.h"

#include <algorithm>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "common/codec.h"
#include "common/log.h"

namespace rrto {
namespace {

constexpr uint16_t kEmCuda = 190;
constexpr uint32_t kShtSymtab = 2;
constexpr uint32_t kShtNobits = 8;
// Relocatable (-rdc) cubins type their .nv.global this way: zero-filled like
// NOBITS, though the header gives it a file offset.
constexpr uint32_t kShtCudaGlobal = 0x70000007;
constexpr uint8_t kSttObject = 1;
constexpr uint8_t kSttFunc = 2;
constexpr uint8_t kSttCudaObject = 13;  // relocatable (-rdc) device variables
constexpr uint8_t kStoCudaEntry = 0x10;  // st_other bit nvcc sets on kernels
constexpr uint16_t kShnLoreserve = 0xff00;  // section indices from here on are special (absolute, common)

// EIATTR record formats (u8 format, u8 attribute, u16 value-or-size).
constexpr uint8_t kEifmtNval = 1;  // no value
constexpr uint8_t kEifmtBval = 2;  // value in the u16
constexpr uint8_t kEifmtHval = 3;  // value in the u16
constexpr uint8_t kEifmtSval = 4;  // u16 = payload size, payload follows

constexpr uint8_t kEiattrKparamInfo = 0x17;    // flags word: size in bits 18..31
constexpr uint8_t kEiattrCbankParamSize = 0x19;
// Same records with the third word being the size; nvcc 13 writes these
// instead for (some) kernels with more than 4 KiB of parameters.
constexpr uint8_t kEiattrKparamInfoV2 = 0x45;

// The driver limit is 32764 bytes of parameters; anything past 64 KiB is not
// a real image.
constexpr uint64_t kMaxParamBytes = 0x10000;

constexpr const char* kLog = "module_image";

struct ElfHeader {
  uint64_t phoff = 0, shoff = 0;
  uint16_t machine = 0, phentsize = 0, phnum = 0, shentsize = 0, shnum = 0, shstrndx = 0;
};

struct Section {
  uint32_t name = 0, type = 0, link = 0;
  uint64_t offset = 0, size = 0, entsize = 0;
};

bool is_elf_magic(Bytes b) {
  return b.size() >= 4 && b[0] == 0x7f && b[1] == 'E' && b[2] == 'L' && b[3] == 'F';
}

Status read_header(Bytes b, ElfHeader& h) {
  ByteReader r(b);
  auto ident = r.get_bytes(16);
  uint16_t type = 0, ehsize = 0;
  uint32_t version = 0, flags = 0;
  uint64_t entry = 0;
  r.get(type);
  r.get(h.machine);
  r.get(version);
  r.get(entry);
  r.get(h.phoff);
  r.get(h.shoff);
  r.get(flags);
  r.get(ehsize);
  r.get(h.phentsize);
  r.get(h.phnum);
  r.get(h.shentsize);
  r.get(h.shnum);
  r.get(h.shstrndx);
  if (r.failed() || !is_elf_magic(ident)) return Status::InvalidArgument;
  if (ident[4] != 2 || ident[5] != 1) {
    RRTO_WARN(kLog, "ELF class {} data {}: only 64-bit little-endian cubins are supported", ident[4], ident[5]);
    return Status::NotSupported;
  }
  if (h.machine != kEmCuda) {
    RRTO_WARN(kLog, "ELF machine {} is not EM_CUDA", h.machine);
    return Status::NotSupported;
  }
  if (h.shnum == 0 || h.shentsize < 64 || h.shstrndx >= h.shnum) {
    // shnum 0 with extended numbering never occurs in cubins.
    return Status::InvalidArgument;
  }
  if (h.phnum != 0 && h.phentsize < 56) return Status::InvalidArgument;
  return Status::Ok;
}

// The file bytes a program header's segment covers.
Status read_segment(Bytes table, uint16_t phentsize, size_t index, uint64_t& offset, uint64_t& file_size) {
  Bytes e;
  if (!slice(table, uint64_t{index} * phentsize, phentsize, e)) return Status::InvalidArgument;
  ByteReader r(e);
  uint32_t type = 0, flags = 0;
  r.get(type);
  r.get(flags);
  r.get(offset);
  r.get_bytes(16);  // virtual and physical address
  r.get(file_size);
  return r.failed() ? Status::InvalidArgument : Status::Ok;
}

Status read_section(Bytes table, uint16_t shentsize, size_t index, Section& s) {
  Bytes e;
  if (!slice(table, uint64_t{index} * shentsize, shentsize, e)) return Status::InvalidArgument;
  ByteReader r(e);
  uint64_t flags = 0, addr = 0, align = 0;
  uint32_t info = 0;
  r.get(s.name);
  r.get(s.type);
  r.get(flags);
  r.get(addr);
  r.get(s.offset);
  r.get(s.size);
  r.get(s.link);
  r.get(info);
  r.get(align);
  r.get(s.entsize);
  return r.failed() ? Status::InvalidArgument : Status::Ok;
}

// A NUL-terminated name inside a string table section.
bool string_at(Bytes strtab, uint32_t off, std::string_view& out) {
  if (off >= strtab.size()) return false;
  const auto* begin = reinterpret_cast<const char*>(strtab.data()) + off;
  const size_t avail = strtab.size() - off;
  const size_t n = strnlen(begin, avail);
  if (n == avail) return false;
  out = std::string_view(begin, n);
  return true;
}

class Cubin {
 public:
  explicit Cubin(Bytes image) : image_(image) {}

  Status load() {
    if (Status st = read_header(image_, h_); !ok(st)) return st;
    Bytes table;
    if (!slice(image_, h_.shoff, uint64_t{h_.shnum} * h_.shentsize, table)) return Status::InvalidArgument;
    sections_.resize(h_.shnum);
    for (size_t i = 0; i < h_.shnum; ++i) {
      if (Status st = read_section(table, h_.shentsize, i, sections_[i]); !ok(st)) return st;
    }
    if (!data(h_.shstrndx, shstrtab_)) return Status::InvalidArgument;
    return Status::Ok;
  }

  const std::vector<Section>& sections() const { return sections_; }

  bool data(size_t index, Bytes& out) const {
    if (index >= sections_.size()) return false;
    const Section& s = sections_[index];
    if (s.type == kShtNobits) {
      out = {};
      return true;
    }
    return slice(image_, s.offset, s.size, out);
  }

  bool name(const Section& s, std::string_view& out) const { return string_at(shstrtab_, s.name, out); }

 private:
  Bytes image_;
  ElfHeader h_;
  std::vector<Section> sections_;
  Bytes shstrtab_;
};

Status add_param(const std::string& kernel, uint32_t word1, uint64_t size, std::vector<std::optional<ParamInfo>>& slots) {
  const uint32_t ordinal = word1 & 0xffff;
  const uint32_t offset = word1 >> 16;
  if (ordinal >= slots.size() || slots[ordinal] || offset + size > kMaxParamBytes) {
    RRTO_WARN(kLog, "{}: bad parameter record (ordinal {}, offset {}, size {})", kernel, ordinal, offset, size);
    return Status::InvalidArgument;
  }
  slots[ordinal] = ParamInfo{offset, static_cast<uint32_t>(size)};
  return Status::Ok;
}

Status parse_nv_info(Bytes info, KernelInfo& k) {
  // Two passes: the first counts parameter records so ordinals can be checked
  // for being exactly 0..n-1.
  size_t count = 0;
  uint32_t cbank_param_size = 0;
  std::vector<std::optional<ParamInfo>> slots;
  for (int pass = 0; pass < 2; ++pass) {
    ByteReader r(info);
    while (r.remaining() > 0) {
      uint8_t fmt = 0, attr = 0;
      uint16_t value = 0;
      r.get(fmt);
      r.get(attr);
      r.get(value);
      if (r.failed()) return Status::InvalidArgument;
      Bytes payload;
      if (fmt == kEifmtSval) {
        payload = r.get_bytes(value);
        if (r.failed()) return Status::InvalidArgument;
      } else if (fmt != kEifmtNval && fmt != kEifmtBval && fmt != kEifmtHval) {
        RRTO_WARN(kLog, "{}: unknown .nv.info record format {}", k.name, fmt);
        return Status::InvalidArgument;
      }
      if (attr == kEiattrKparamInfo || attr == kEiattrKparamInfoV2) {
        ByteReader p(payload);
        uint32_t index = 0, word1 = 0, word2 = 0;
        p.get(index);
        p.get(word1);
        p.get(word2);
        if (fmt != kEifmtSval || p.failed()) return Status::InvalidArgument;
        if (pass == 0) {
          ++count;
          continue;
        }
        const uint64_t size = attr == kEiattrKparamInfo ? (word2 >> 18) : word2;
        if (Status st = add_param(k.name, word1, size, slots); !ok(st)) return st;
      } else if (attr == kEiattrCbankParamSize && fmt == kEifmtHval) {
        cbank_param_size = value;
      }
    }
    slots.resize(count);
  }
  k.params.clear();
  uint64_t end = 0;
  for (const auto& slot : slots) {
    if (!slot) return Status::InvalidArgument;
    if (slot->offset < end) {
      RRTO_WARN(kLog, "{}: parameters overlap at offset {}", k.name, slot->offset);
      return Status::InvalidArgument;
    }
    k.params.push_back(*slot);
    end = uint64_t{slot->offset} + slot->size;
  }
  k.param_bytes = static_cast<uint32_t>(end);
  if (k.params.empty() && cbank_param_size != 0) {
    RRTO_WARN(kLog, "{}: {} parameter bytes but no per-parameter records", k.name, cbank_param_size);
    k.param_bytes = cbank_param_size;
  }
  return Status::Ok;
}

struct Symbol {
  std::string_view name;
  uint8_t type = 0, other = 0;
  uint16_t shndx = 0;
  uint64_t value = 0, size = 0;
};

Status read_symbols(const Cubin& c, std::vector<Symbol>& out, bool& have_symtab) {
  have_symtab = false;
  for (size_t i = 0; i < c.sections().size(); ++i) {
    const Section& s = c.sections()[i];
    if (s.type != kShtSymtab) continue;
    have_symtab = true;
    Bytes syms, strtab;
    if (s.entsize < 24 || !c.data(i, syms) || !c.data(s.link, strtab)) {
      return Status::InvalidArgument;
    }
    for (uint64_t off = 0; off + s.entsize <= syms.size(); off += s.entsize) {
      ByteReader r(syms.subspan(off, 24));
      uint32_t name = 0;
      uint8_t info = 0;
      Symbol sym;
      r.get(name);
      r.get(info);
      r.get(sym.other);
      r.get(sym.shndx);
      r.get(sym.value);
      r.get(sym.size);
      if (r.failed() || !string_at(strtab, name, sym.name)) return Status::InvalidArgument;
      sym.type = info & 0xf;
      out.push_back(sym);
    }
    return Status::Ok;  // cubins have one symbol table
  }
  return Status::Ok;
}

bool is_variable_section(std::string_view name) {
  return name.starts_with(".nv.global") || name.starts_with(".nv.constant");
}

// The variable `sym` names, with its initial bytes unless its section is
// zero-filled. `initial_budget` is what initial bytes may still be copied: a
// real image holds each byte of a variable once, so overlapping symbols
// cannot make the copies outgrow the image.
Status read_global(const Cubin& c, const Symbol& sym, uint64_t& initial_budget, std::vector<GlobalInfo>& out) {
  if (sym.shndx >= kShnLoreserve) return Status::Ok;  // no storage in the image
  if (sym.shndx >= c.sections().size()) return Status::InvalidArgument;
  const Section& section = c.sections()[sym.shndx];
  std::string_view section_name;
  if (!c.name(section, section_name)) return Status::InvalidArgument;
  if (!is_variable_section(section_name)) return Status::Ok;  // e.g. a kernel's __shared__ variable
  if (!fits(sym.value, sym.size, section.size)) {
    RRTO_WARN(kLog, "variable {} at [{}, +{}) lies outside its section {} of {} bytes", sym.name, sym.value, sym.size,
              section_name, section.size);
    return Status::InvalidArgument;
  }
  GlobalInfo g{.name = std::string(sym.name), .size = sym.size, .initial = {}};
  if (section.type != kShtNobits && section.type != kShtCudaGlobal) {
    Bytes data, initial;
    if (sym.size > initial_budget || !c.data(sym.shndx, data) || !slice(data, sym.value, sym.size, initial))
      return Status::InvalidArgument;
    initial_budget -= sym.size;
    g.initial.assign(initial.begin(), initial.end());
  }
  out.push_back(std::move(g));
  return Status::Ok;
}

}  // namespace

Status elf_image_size(const uint8_t* p, size_t max_bytes, size_t& size) {
  if (max_bytes < 64) return Status::InvalidArgument;
  ElfHeader h;
  if (Status st = read_header(Bytes(p, 64), h); !ok(st)) return st;
  const uint64_t sh_bytes = uint64_t{h.shnum} * h.shentsize;
  const uint64_t ph_bytes = uint64_t{h.phnum} * h.phentsize;
  if (!fits(h.shoff, sh_bytes, max_bytes) || !fits(h.phoff, ph_bytes, max_bytes)) return Status::InvalidArgument;
  uint64_t end = std::max<uint64_t>({64, h.shoff + sh_bytes, h.phnum ? h.phoff + ph_bytes : 0});
  const Bytes table(p + h.shoff, sh_bytes);
  for (size_t i = 0; i < h.shnum; ++i) {
    Section s;
    if (Status st = read_section(table, h.shentsize, i, s); !ok(st)) return st;
    if (s.type == kShtNobits) continue;
    if (!fits(s.offset, s.size, max_bytes)) return Status::InvalidArgument;
    end = std::max(end, s.offset + s.size);
  }
  // The driver loads segments by their program headers: theirs must fit too.
  const Bytes segments(p + h.phoff, ph_bytes);
  for (size_t i = 0; i < h.phnum; ++i) {
    uint64_t offset = 0, file_size = 0;
    if (Status st = read_segment(segments, h.phentsize, i, offset, file_size); !ok(st)) return st;
    if (!fits(offset, file_size, max_bytes)) return Status::InvalidArgument;
    end = std::max(end, offset + file_size);
  }
  size = static_cast<size_t>(end);
  return Status::Ok;
}

Status parse_cubin(Bytes image, CubinContents& out) {
  Cubin c(image);
  if (Status st = c.load(); !ok(st)) return st;

  constexpr std::string_view kInfoPrefix = ".nv.info.";
  std::unordered_map<std::string_view, size_t> info_sections;
  for (size_t i = 0; i < c.sections().size(); ++i) {
    std::string_view name;
    if (!c.name(c.sections()[i], name)) return Status::InvalidArgument;
    if (name.starts_with(kInfoPrefix) && name.size() > kInfoPrefix.size()) {
      info_sections.emplace(name.substr(kInfoPrefix.size()), i);
    }
  }

  std::vector<Symbol> symbols;
  bool have_symtab = false;
  if (Status st = read_symbols(c, symbols, have_symtab); !ok(st)) return st;

  std::vector<std::string_view> kernel_names;
  if (have_symtab) {
    uint64_t initial_budget = image.size();
    // Non-entry device functions (-rdc) have .nv.info.<name> sections too.
    for (const Symbol& s : symbols) {
      if (s.shndx == 0 || s.name.empty()) continue;
      if (s.type == kSttFunc && (s.other & kStoCudaEntry)) {
        kernel_names.push_back(s.name);
      } else if ((s.type == kSttObject || s.type == kSttCudaObject) && !s.name.starts_with('.')) {
        if (Status st = read_global(c, s, initial_budget, out.globals); !ok(st)) return st;
      }
    }
  } else {
    for (const auto& [name, index] : info_sections) kernel_names.push_back(name);
    std::sort(kernel_names.begin(), kernel_names.end());
  }

  for (std::string_view name : kernel_names) {
    KernelInfo k;
    k.name = std::string(name);
    auto it = info_sections.find(name);
    if (it != info_sections.end()) {
      Bytes info;
      if (!c.data(it->second, info)) return Status::InvalidArgument;
      if (Status st = parse_nv_info(info, k); !ok(st)) return st;
    }
    out.kernels.push_back(std::move(k));
  }
  return Status::Ok;
}

}  // namespace rrto

#include "module_image/ptx.h"

#include <charconv>
#include <cstring>
#include <string>

#include "common/log.h"

namespace rrto {
namespace {

constexpr const char* kLog = "module_image";
constexpr uint64_t kMaxParamBytes = 0x10000;

bool is_word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '$' ||
         c == '%';
}

// Splits PTX into directives (".u32"), words (names, numbers) and single
// punctuation characters; comments and string literals are dropped.
class Lexer {
 public:
  explicit Lexer(std::string_view text) : s_(text) {}

  // False at the end of the text or on an unterminated comment or string
  // (then `error()` is set).
  bool next(std::string_view& tok) {
    while (pos_ < s_.size()) {
      const char c = s_[pos_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
        ++pos_;
      } else if (s_.substr(pos_, 2) == "//") {
        const size_t nl = s_.find('\n', pos_);
        pos_ = nl == std::string_view::npos ? s_.size() : nl + 1;
      } else if (s_.substr(pos_, 2) == "/*") {
        const size_t close = s_.find("*/", pos_ + 2);
        if (close == std::string_view::npos) return fail();
        pos_ = close + 2;
      } else if (c == '"') {
        size_t i = pos_ + 1;
        while (i < s_.size() && s_[i] != '"') i += s_[i] == '\\' ? 2 : 1;
        if (i >= s_.size()) return fail();
        pos_ = i + 1;
      } else {
        const size_t start = pos_;
        if (c == '.' || is_word_char(c)) {
          ++pos_;
          while (pos_ < s_.size() && is_word_char(s_[pos_])) ++pos_;
        } else {
          ++pos_;
        }
        tok = s_.substr(start, pos_ - start);
        return true;
      }
    }
    return false;
  }

  bool error() const { return error_; }

 private:
  bool fail() {
    error_ = true;
    pos_ = s_.size();
    return false;
  }

  std::string_view s_;
  size_t pos_ = 0;
  bool error_ = false;
};

// Size in bytes of a PTX parameter type; 0 if it is not one.
uint32_t type_size(std::string_view t) {
  if (t == ".b8" || t == ".s8" || t == ".u8") return 1;
  if (t == ".b16" || t == ".s16" || t == ".u16" || t == ".f16" || t == ".bf16") return 2;
  if (t == ".b32" || t == ".s32" || t == ".u32" || t == ".f32" || t == ".f16x2" || t == ".bf16x2") return 4;
  if (t == ".b64" || t == ".s64" || t == ".u64" || t == ".f64") return 8;
  if (t == ".b128") return 16;
  // Opaque handles of the unified texture mode.
  if (t == ".texref" || t == ".samplerref" || t == ".surfref") return 8;
  return 0;
}

bool is_state_space(std::string_view t) {
  return t == ".global" || t == ".const" || t == ".local" || t == ".shared";
}

bool parse_number(std::string_view t, uint64_t& v) {
  int base = 10;
  if (t.size() > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) {
    t.remove_prefix(2);
    base = 16;
  }
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v, base);
  return ec == std::errc() && end == t.data() + t.size();
}

class Parser {
 public:
  explicit Parser(std::string_view text) : lex_(text) {}

  Status run(std::vector<KernelInfo>& kernels) {
    std::string_view tok;
    int depth = 0;
    while (lex_.next(tok)) {
      if (tok == "{") {
        ++depth;
      } else if (tok == "}") {
        if (--depth < 0) return Status::InvalidArgument;
      } else if (tok == ".entry" && depth == 0) {
        KernelInfo k;
        bool has_body = false;
        if (Status st = entry(k, has_body); !ok(st)) return st;
        if (has_body) {
          depth = 1;
          kernels.push_back(std::move(k));
        }
      }
    }
    return lex_.error() || depth != 0 ? Status::InvalidArgument : Status::Ok;
  }

 private:
  // After `.entry`: the name, the optional parameter list and the
  // performance directives up to the body's `{` (consumed) or a `;`.
  Status entry(KernelInfo& k, bool& has_body) {
    std::string_view tok;
    if (!lex_.next(tok) || !is_word_char(tok[0])) return Status::InvalidArgument;
    k.name = std::string(tok);
    if (!lex_.next(tok)) return Status::InvalidArgument;
    uint64_t end = 0;
    if (tok == "(") {
      if (Status st = params(k, end); !ok(st)) return st;
      if (!lex_.next(tok)) return Status::InvalidArgument;
    }
    k.param_bytes = static_cast<uint32_t>(end);
    while (tok != "{" && tok != ";") {
      if (tok == ".pragma") {
        // `.pragma "...";` ends in a `;` that does not end the entry.
        while (tok != ";") {
          if (!lex_.next(tok)) return Status::InvalidArgument;
        }
      }
      if (tok == "}" || tok == ".entry" || !lex_.next(tok)) return Status::InvalidArgument;
    }
    has_body = tok == "{";
    return Status::Ok;
  }

  Status params(KernelInfo& k, uint64_t& end) {
    std::string_view tok;
    if (!lex_.next(tok)) return Status::InvalidArgument;
    if (tok == ")") return Status::Ok;
    while (true) {
      if (Status st = param(k, tok, end); !ok(st)) return st;
      if (tok == ")") return Status::Ok;
      if (tok != "," || !lex_.next(tok)) return Status::InvalidArgument;
    }
  }

  // One `.param` declaration starting at `tok`; leaves `tok` at the `,` or
  // `)` after it.
  Status param(KernelInfo& k, std::string_view& tok, uint64_t& end) {
    if (tok != ".param") return bad(k, tok);
    uint32_t elem = 0;
    uint64_t align = 0, count = 1;
    bool ptr = false;
    std::string_view name;
    while (lex_.next(tok) && name.empty()) {
      if (const uint32_t sz = type_size(tok)) {
        if (elem) return bad(k, tok);
        elem = sz;
      } else if (tok == ".align") {
        uint64_t a = 0;
        if (!lex_.next(tok) || !parse_number(tok, a) || a == 0 || (a & (a - 1)) || a > 4096) return bad(k, tok);
        if (!ptr) align = a;  // after .ptr it is the pointee's alignment
      } else if (tok == ".ptr") {
        ptr = true;
      } else if (is_state_space(tok) && ptr) {
      } else if (is_word_char(tok[0])) {
        name = tok;
      } else {
        return bad(k, tok);
      }
    }
    if (name.empty() || !elem || lex_.error()) return bad(k, tok);
    // `tok` is the token after the name: array dimensions, then `,` or `)`.
    while (tok == "[") {
      uint64_t n = 0;
      if (!lex_.next(tok) || !parse_number(tok, n) || n == 0 || n > kMaxParamBytes) return bad(k, tok);
      count *= n;
      if (count > kMaxParamBytes || !lex_.next(tok) || tok != "]" || !lex_.next(tok)) return bad(k, tok);
    }
    if (!align) align = elem;
    const uint64_t offset = (end + align - 1) & ~(align - 1);
    const uint64_t size = count * elem;
    if (offset + size > kMaxParamBytes) return bad(k, tok);
    k.params.push_back(ParamInfo{static_cast<uint32_t>(offset), static_cast<uint32_t>(size)});
    end = offset + size;
    return Status::Ok;
  }

  Status bad(const KernelInfo& k, std::string_view tok) {
    RRTO_WARN(kLog, "PTX entry {}: unexpected '{}' in parameter list", k.name, tok);
    return Status::InvalidArgument;
  }

  Lexer lex_;
};

}  // namespace

bool terminated_text(const uint8_t* p, size_t max_bytes, std::string_view& text) {
  if (max_bytes == 0) return false;
  const auto* begin = reinterpret_cast<const char*>(p);
  const size_t len = strnlen(begin, max_bytes);
  if (len == max_bytes) return false;
  text = std::string_view(begin, len);
  return true;
}

bool looks_like_ptx(std::string_view text) {
  Lexer lex(text);
  std::string_view tok;
  return lex.next(tok) && tok == ".version";
}

Status parse_ptx(std::string_view text, std::vector<KernelInfo>& kernels) {
  return Parser(text).run(kernels);
}

}  // namespace rrto

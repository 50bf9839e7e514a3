#include "common/printable.h"

#include <fmt/format.h>

namespace rrto {

std::string printable(std::string_view text, size_t max_length) {
  std::string out;
  out.reserve(std::min(text.size(), max_length) + 3);
  for (char c : text.substr(0, max_length)) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f && byte != '\\')
      out += c;
    else
      out += fmt::format("\\x{:02x}", byte);
  }
  if (text.size() > max_length) out += "...";
  return out;
}

}  // namespace rrto

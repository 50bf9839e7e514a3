// A C++ symbol's readable name: "_ZN3cnn4reluEPfi" -> "cnn::relu(float*, int)".
#pragma once

#include <string>
#include <string_view>

namespace rrto {

// The demangled name of a mangled C++ symbol (Itanium ABI, "_Z..."); the
// name itself when it is not one (an extern "C" kernel) or does not demangle.
std::string demangled(std::string_view name);

}  // namespace rrto

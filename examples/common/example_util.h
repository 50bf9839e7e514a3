// Small helpers shared by the example programs (driver API error reporting,
// output comparison, option parsing). Header-only.
#pragma once

#include <cuda.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace examples {

// Prefix of every message; main() sets it.
inline const char* program = "example";

// Reports a failed driver call as "<program>: <call> failed: CUDA_ERROR_X (text)".
inline bool check_cu(CUresult r, const char* call) {
  if (r == CUDA_SUCCESS) return true;
  const char* name = nullptr;
  const char* text = nullptr;
  if (cuGetErrorName(r, &name) != CUDA_SUCCESS || name == nullptr) name = "unknown CUresult";
  if (cuGetErrorString(r, &text) != CUDA_SUCCESS || text == nullptr) text = "no description";
  std::fprintf(stderr, "%s: %s failed: %s (%d: %s)\n", program, call, name, static_cast<int>(r), text);
  return false;
}

inline uint32_t float_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

// RRTO_EXAMPLE_TOLERANCE=<relative> allows that much relative difference
// (e.g. 1e-5); unset, outputs must be bit-identical.
inline double tolerance_from_env() {
  const char* s = std::getenv("RRTO_EXAMPLE_TOLERANCE");
  if (s == nullptr || *s == '\0') return 0.0;
  char* end = nullptr;
  const double t = std::strtod(s, &end);
  if (end == s || *end != '\0' || !(t >= 0.0)) {
    std::fprintf(stderr, "%s: ignoring RRTO_EXAMPLE_TOLERANCE=%s (not a number >= 0)\n", program, s);
    return 0.0;
  }
  return t;
}

struct Comparison {
  bool match = true;   // equal, or within the tolerance
  bool exact = true;   // bit-identical
  size_t index = 0;    // first element that does not match
};

inline Comparison compare(const std::vector<float>& got, const std::vector<float>& want, double tolerance) {
  Comparison c;
  for (size_t i = 0; i < got.size() && i < want.size(); ++i) {
    if (float_bits(got[i]) == float_bits(want[i])) continue;
    c.exact = false;
    const double a = got[i], b = want[i];
    const double scale = std::max(std::fabs(a), std::fabs(b));
    if (tolerance > 0.0 && std::fabs(a - b) <= tolerance * scale) continue;
    c.match = false;
    c.index = i;
    return c;
  }
  if (got.size() != want.size()) {
    c.match = c.exact = false;
    c.index = std::min(got.size(), want.size());
  }
  return c;
}

inline double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const size_t m = v.size() / 2;
  return v.size() % 2 != 0 ? v[m] : (v[m - 1] + v[m]) / 2.0;
}

inline bool parse_positive(const char* s, int& out, int max = 1 << 20) {
  char* end = nullptr;
  const long v = std::strtol(s, &end, 10);
  if (end == s || *end != '\0' || v <= 0 || v > max) return false;
  out = static_cast<int>(v);
  return true;
}

}  // namespace examples

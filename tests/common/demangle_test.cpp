#include <doctest/doctest.h>

#include "common/demangle.h"

using rrto::demangled;

TEST_CASE("demangled: C++ kernels get their readable names") {
  CHECK(demangled("_ZN3cnn4reluEPfi") == "cnn::relu(float*, int)");
  CHECK(demangled("_ZN3cnn11conv2d_biasEPKfS1_S1_Pfiiiiii") ==
        "cnn::conv2d_bias(float const*, float const*, float const*, float*, int, int, int, int, int, int)");
  CHECK(demangled("_Z6conv2dPKf") == "conv2d(float const*)");
}

TEST_CASE("demangled: other names are kept as they are") {
  CHECK(demangled("relu_inplace") == "relu_inplace");  // extern "C"
  CHECK(demangled("f") == "f");                        // not read as the type float
  CHECK(demangled("_Znot_a_symbol") == "_Znot_a_symbol");
  CHECK(demangled("") == "");
}

#include <doctest/doctest.h>

#include "matcher/variable_args.h"

using namespace rrto;

TEST_CASE("differences map to whole parameters where the layout is known") {
  const KernelParam layout[] = {{0, 8}, {8, 4}, {16, 8}};
  std::vector<uint8_t> a(24, 0), b(24, 0);
  b[9] = 1;   // inside parameter 1
  b[20] = 1;  // inside parameter 2
  b[13] = 1;  // padding: no parameter covers it
  std::vector<VariableArg> out;
  diff_operands(3, layout, a, b, {}, out);
  REQUIRE(out.size() == 3);
  CHECK(out[0] == VariableArg{3, 1, 8, 4});
  CHECK(out[1] == VariableArg{3, 2, 16, 8});
  CHECK(out[2] == VariableArg{3, -1, 13, 1});
}

TEST_CASE("without a layout, differing byte runs are reported") {
  std::vector<uint8_t> a(16, 0), b(16, 0);
  b[2] = b[3] = b[4] = 7;
  b[15] = 1;
  std::vector<VariableArg> out;
  diff_operands(0, {}, a, b, {}, out);
  REQUIRE(out.size() == 2);
  CHECK(out[0] == VariableArg{0, -1, 2, 3});
  CHECK(out[1] == VariableArg{0, -1, 15, 1});
}

TEST_CASE("known variable ranges are skipped") {
  const KernelParam layout[] = {{0, 8}, {8, 8}};
  std::vector<uint8_t> a(16, 0), b(16, 0);
  b[1] = 1;
  const VariableArg known[] = {{0, 0, 0, 8}};
  CHECK_FALSE(differs_outside(a, b, known));
  std::vector<VariableArg> out;
  diff_operands(0, layout, a, b, known, out);
  CHECK(out.empty());
  b[12] = 1;
  CHECK(differs_outside(a, b, known));
  diff_operands(0, layout, a, b, known, out);
  REQUIRE(out.size() == 1);
  CHECK(out[0].param == 1);
}

#include <doctest/doctest.h>

#include <string>

#include "common/printable.h"

using rrto::printable;

TEST_CASE("printable keeps printable ASCII and escapes every other byte") {
  CHECK(printable("conv2d<float>(x)") == "conv2d<float>(x)");
  CHECK(printable(std::string("a\nb\x1b[2J\\\0z", 10)) == "a\\x0ab\\x1b[2J\\x5c\\x00z");
  CHECK(printable("\xff") == "\\xff");
}

TEST_CASE("printable cuts long text and says so") {
  CHECK(printable("abcdef", 4) == "abcd...");
  CHECK(printable("abcd", 4) == "abcd");
  CHECK(printable(std::string(10000, 'x')).size() == 256 + 3);
}

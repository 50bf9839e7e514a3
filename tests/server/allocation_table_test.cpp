#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "server/allocation_table.h"

using rrto::server::AllocationTable;

namespace {

AllocationTable two_neighbours() {
  AllocationTable t;
  REQUIRE(t.insert({.base = 0x1000, .size = 0x100}));
  REQUIRE(t.insert({.base = 0x1100, .size = 0x100}));  // right after the first
  return t;
}

}  // namespace

TEST_CASE("a range inside one allocation is accepted, up to its last byte") {
  AllocationTable t = two_neighbours();
  CHECK(t.contains(0x1000, 0x100));
  CHECK(t.contains(0x1000, 1));
  CHECK(t.contains(0x10ff, 1));
  CHECK(t.contains(0x1010, 0x20));
  CHECK(t.find_range(0x1010, 0x20)->base == 0x1000);
}

TEST_CASE("one byte past the end of an allocation is refused") {
  AllocationTable t;
  REQUIRE(t.insert({.base = 0x1000, .size = 0x100}));
  CHECK_FALSE(t.contains(0x1000, 0x101));
  CHECK_FALSE(t.contains(0x10ff, 2));
  CHECK_FALSE(t.contains(0x1100, 1));
  CHECK_FALSE(t.contains(0x0fff, 1));
}

TEST_CASE("a range spanning two neighbouring allocations is refused") {
  AllocationTable t = two_neighbours();
  CHECK_FALSE(t.contains(0x10f0, 0x20));
  CHECK_FALSE(t.contains(0x1000, 0x200));
}

TEST_CASE("a freed allocation is refused") {
  AllocationTable t = two_neighbours();
  REQUIRE(t.erase(0x1000));
  CHECK_FALSE(t.contains(0x1000, 1));
  CHECK_FALSE(t.contains(0x1080, 0x10));
  CHECK(t.contains(0x1100, 0x100));
  CHECK_FALSE(t.erase(0x1000));  // twice
}

TEST_CASE("another table's (another session's) memory is refused") {
  AllocationTable mine, theirs;
  REQUIRE(mine.insert({.base = 0x1000, .size = 0x100}));
  REQUIRE(theirs.insert({.base = 0x9000, .size = 0x100}));
  CHECK_FALSE(mine.contains(0x9000, 1));
  CHECK_FALSE(mine.find_base(0x9000));
  CHECK_FALSE(theirs.contains(0x1000, 1));
}

TEST_CASE("zero-size ranges and allocations") {
  AllocationTable t = two_neighbours();
  CHECK(t.contains(0x1000, 0));
  CHECK(t.contains(0x10ff, 0));
  CHECK_FALSE(t.contains(0x1200, 0));  // one past the last allocation
  CHECK_FALSE(t.contains(0x0, 0));
  CHECK_FALSE(t.insert({.base = 0x5000, .size = 0}));
}

TEST_CASE("p + n overflowing 64 bits is refused") {
  AllocationTable t;
  const uint64_t top = UINT64_MAX - 0x1ff;  // an allocation near the top of the address space
  REQUIRE(t.insert({.base = top, .size = 0x100}));
  CHECK(t.contains(top, 0x100));
  CHECK_FALSE(t.contains(top, 0x101));
  CHECK_FALSE(t.contains(top + 0x10, UINT64_MAX));  // wraps around
  CHECK_FALSE(t.contains(UINT64_MAX, 2));
  CHECK_FALSE(t.insert({.base = UINT64_MAX - 0xff, .size = 0x100}));  // would end at 2^64

  AllocationTable low;
  REQUIRE(low.insert({.base = 0x1000, .size = 0x100}));
  CHECK_FALSE(low.contains(0x1010, UINT64_MAX - 0x8));  // wraps around to inside the allocation
  CHECK_FALSE(low.insert({.base = UINT64_MAX - 0x10, .size = 0x100}));
}

TEST_CASE("overlapping inserts are refused") {
  AllocationTable t = two_neighbours();
  CHECK_FALSE(t.insert({.base = 0x10f0, .size = 0x20}));
  CHECK_FALSE(t.insert({.base = 0x0f00, .size = 0x101}));
  CHECK_FALSE(t.insert({.base = 0x1000, .size = 0x10}));
  CHECK(t.insert({.base = 0x0f00, .size = 0x100}));  // ends where the first begins
  CHECK(t.size() == 3);
}

TEST_CASE("module globals are counted apart and leave with their module") {
  AllocationTable t;
  REQUIRE(t.insert({.base = 0x1000, .size = 0x100}));
  REQUIRE(t.insert({.base = 0x2000, .size = 0x40, .kind = AllocationTable::Kind::ModuleGlobal, .module = 7}));
  REQUIRE(t.insert({.base = 0x3000, .size = 0x40, .kind = AllocationTable::Kind::ModuleGlobal, .module = 8}));
  CHECK(t.allocated_bytes() == 0x100);
  CHECK(t.contains(0x2000, 0x40));
  t.erase_module_globals(7);
  CHECK_FALSE(t.contains(0x2000, 1));
  CHECK(t.contains(0x3000, 0x40));
  CHECK(t.contains(0x1000, 0x100));
  CHECK(t.allocated_bytes() == 0x100);
  REQUIRE(t.erase(0x1000));
  CHECK(t.allocated_bytes() == 0);
}

TEST_CASE("memory mapped back to back into a reserved range is one range; other neighbours stay apart") {
  AllocationTable t;
  REQUIRE(t.insert({.base = 0x1000, .size = 0x100, .joins = true}));
  REQUIRE(t.insert({.base = 0x1100, .size = 0x100, .joins = true}));
  REQUIRE(t.insert({.base = 0x1200, .size = 0x100}));                 // touches, but an ordinary allocation
  REQUIRE(t.insert({.base = 0x1400, .size = 0x100, .joins = true}));  // a gap before it
  CHECK(t.contains(0x10f0, 0x20));
  CHECK(t.contains(0x1000, 0x200));
  CHECK_FALSE(t.contains(0x1000, 0x201));  // runs on into the ordinary allocation
  CHECK_FALSE(t.contains(0x1100, 0x400));  // over the gap
  CHECK(t.find_range(0x1000, 0x200) == nullptr);  // no one entry holds it
  std::vector<uint64_t> joined;
  t.for_each_joined(*t.find_base(0x1100), [&](const AllocationTable::Entry& e) { joined.push_back(e.base); });
  CHECK(joined == std::vector<uint64_t>{0x1000, 0x1100});
  joined.clear();
  t.for_each_joined(*t.find_base(0x1200), [&](const AllocationTable::Entry& e) { joined.push_back(e.base); });
  CHECK(joined == std::vector<uint64_t>{0x1200});
}

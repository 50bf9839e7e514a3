#include <doctest/doctest.h>

#include <string>

#include "server/handle_map.h"

using rrto::server::HandleMap;

TEST_CASE("handle map: insert, find, erase") {
  HandleMap<std::string> m;
  CHECK(m.insert(5, "five"));
  CHECK(m.insert(0x8000000000000001ull, "per-thread"));
  REQUIRE(m.find(5));
  CHECK(*m.find(5) == "five");
  CHECK(m.size() == 2);
  CHECK(m.erase(5));
  CHECK_FALSE(m.find(5));
  CHECK_FALSE(m.erase(5));
}

TEST_CASE("handle map: the null id and ids in use are refused") {
  HandleMap<int> m;
  CHECK_FALSE(m.insert(0, 1));
  CHECK(m.insert(3, 1));
  CHECK_FALSE(m.insert(3, 2));
  CHECK(*m.find(3) == 1);
  CHECK_FALSE(m.find(4));
}

TEST_CASE("handle map: erase while iterating") {
  HandleMap<int> m;
  for (uint64_t id = 1; id <= 10; ++id) m.insert(id, static_cast<int>(id % 2));
  for (auto it = m.begin(); it != m.end();) it = it->second ? m.erase(it) : std::next(it);
  CHECK(m.size() == 5);
  for (const auto& [id, odd] : m) CHECK(odd == 0);
}

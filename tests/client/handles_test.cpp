#include <doctest/doctest.h>

#include "client/handles.h"

using rrto::client::HandleKind;
using rrto::client::HandleTable;

namespace {

struct Thing {
  uint64_t handle = 0;
  int value = 0;
};
struct Other {
  uint64_t handle = 0;
};

}  // namespace

TEST_CASE("a handle finds its object and nothing else does") {
  HandleTable<Thing, HandleKind::Stream> table;
  auto a = std::make_unique<Thing>();
  a->value = 7;
  const uint64_t ha = table.insert(std::move(a));
  const uint64_t hb = table.insert(std::make_unique<Thing>());
  REQUIRE(table.find(ha) != nullptr);
  CHECK(table.find(ha)->value == 7);
  CHECK(table.find(ha)->handle == ha);
  CHECK(table.find(hb) != table.find(ha));

  CHECK(table.find(uint64_t{0}) == nullptr);
  CHECK(table.find(uint64_t{1}) == nullptr);  // CU_STREAM_LEGACY
  CHECK(table.find(uint64_t{2}) == nullptr);  // CU_STREAM_PER_THREAD
  CHECK(table.find(hb + 0x10) == nullptr);    // one past the last slot
  CHECK(table.find(~uint64_t{0}) == nullptr);
}

TEST_CASE("a handle of one kind never passes for another kind") {
  HandleTable<Thing, HandleKind::Stream> streams;
  HandleTable<Other, HandleKind::Event> events;
  const uint64_t s = streams.insert(std::make_unique<Thing>());
  const uint64_t e = events.insert(std::make_unique<Other>());
  CHECK(streams.find(e) == nullptr);
  CHECK(events.find(s) == nullptr);
}

TEST_CASE("a removed handle stays invalid even after new inserts") {
  HandleTable<Thing, HandleKind::Event> table;
  const uint64_t h = table.insert(std::make_unique<Thing>());
  CHECK(table.remove(h) != nullptr);
  CHECK(table.find(h) == nullptr);
  CHECK(table.remove(h) == nullptr);  // double destroy
  const uint64_t again = table.insert(std::make_unique<Thing>());
  CHECK(again != h);
  CHECK(table.find(h) == nullptr);
  CHECK(table.find(again) != nullptr);
}

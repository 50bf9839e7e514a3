#include <doctest/doctest.h>

#include <chrono>

#include "transport/spin_predictor.h"

using namespace rrto::transport;
using namespace std::chrono_literals;

TEST_CASE("a waiter spins for requests whose last round trip fitted in a spin") {
  SpinPredictor p(100us);
  CHECK(p.worth_spinning(96));  // nothing known yet: spin
  p.record(96, 5us);
  CHECK(p.worth_spinning(96));
  p.record(96, 1500us);  // a replayed inference
  CHECK_FALSE(p.worth_spinning(96));
  CHECK(p.worth_spinning(97));  // another size is another kind of call
  p.record(96, 100us);  // exactly a spin still pays
  CHECK(p.worth_spinning(96));
}

TEST_CASE("sizes a slot apart keep their own prediction") {
  SpinPredictor p(100us);
  // Sizes near each other (a batch with one more call) must not share a slot.
  for (size_t size = 64; size < 64 + 40; ++size) p.record(size, size % 2 ? 1ms : 1us);
  int kept = 0;
  for (size_t size = 64; size < 64 + 40; ++size) kept += p.worth_spinning(size) == (size % 2 == 0);
  CHECK(kept >= 36);
}

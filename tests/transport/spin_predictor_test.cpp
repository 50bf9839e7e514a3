#include <doctest/doctest.h>


#include "transport/spin_predictor.h"

using namespace rrto::transport;

TEST_CASE("a waiter spins for requests whose last round trip fitted in a spin") {
  SpinPredictor p;
  CHECK(p.worth_spinning(96));  // nothing known yet: spin
  p.record(96, true);
  CHECK(p.worth_spinning(96));
  p.record(96, false);  // a replayed inference
  CHECK_FALSE(p.worth_spinning(96));
  CHECK(p.worth_spinning(97));  // another size is another kind of call
  p.record(96, true);
  CHECK(p.worth_spinning(96));
}

TEST_CASE("sizes a slot apart keep their own prediction") {
  SpinPredictor p;
  // Sizes near each other (a batch with one more call) must not share a slot.
  for (size_t size = 64; size < 64 + 40; ++size) p.record(size, size % 2 == 0);
  int kept = 0;
  for (size_t size = 64; size < 64 + 40; ++size) kept += p.worth_spinning(size) == (size % 2 == 0);
  CHECK(kept >= 36);
}

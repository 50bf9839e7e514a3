// TraceReader over arbitrary bytes: a trace file is read whole, and anything
// that is not a well-formed trace must be refused with a message.
#include "fuzz/fuzz_input.h"
#include "recorder/trace_reader.h"

using namespace rrto;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  TraceReader reader;
  Trace trace;
  if (!ok(reader.read_bytes({data, size}, trace))) RRTO_FUZZ_CHECK(!reader.error().empty());
  return 0;
}

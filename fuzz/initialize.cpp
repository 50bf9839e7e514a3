// libFuzzer's start-up hook, linked into every target. Rejected inputs are
// logged at warn or error, which at fuzzing speed is noise: logging is off
// unless RRTO_LOG asks for it (to see why one input was refused).
#include <cstdlib>

#include "common/log.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (!std::getenv("RRTO_LOG")) rrto::log::set_level(rrto::log::Level::Off);
  return 0;
}

// The client's execution modes (RRTO_MODE); their names are the config's.
#pragma once

#include <iterator>
#include <string_view>

#include "config/config.h"

namespace rrto::client {

// In the order of config::kClientModes.
enum class Mode {
  Rpc,     // every call is one round trip
  Async,   // calls that need no answer are queued and sent with the next that does
  Replay,  // as Async, and stretches that follow a found template go as one ReplaySegment
};
static_assert(std::size(config::kClientModes) == 3);

inline const char* mode_name(Mode m) { return config::kClientModes[static_cast<int>(m)].data(); }

// False for a name that is no mode.
inline bool parse_mode(std::string_view name, Mode& out) {
  for (size_t i = 0; i < std::size(config::kClientModes); ++i) {
    if (name == config::kClientModes[i]) {
      out = static_cast<Mode>(i);
      return true;
    }
  }
  return false;
}

}  // namespace rrto::client

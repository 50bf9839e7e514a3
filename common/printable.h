// Text from the network made safe for a log line or a message: printable
// ASCII stays, every other byte becomes \xNN, and it is cut at `max_length`
// bytes of input (then "..." follows), so a client cannot forge log lines,
// send terminal escapes or flood the log.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace rrto {

std::string printable(std::string_view text, size_t max_length = 256);

}  // namespace rrto

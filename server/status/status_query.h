// rrto-server --status HOST:PORT: asks a running server's status endpoint
// for /status and formats it for people (status_table.h).
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace rrto::server {

// InvalidArgument: `address` is not HOST:PORT; Unreachable: no answer there;
// ProtocolError: the answer is not a status document. `error` says which.
Status query_status_table(std::string_view address, std::string& table, std::string& error);

}  // namespace rrto::server

// /status: a StatusView as one JSON document, for people and scripts:
//   {"server": {version, backend, listen, uptime_seconds, connections, sessions,
//               sessions_admitted, sessions_ended, refusals: {auth, full, version, no_device},
//               protocol_errors, bytes_in, messages_in, bytes_out, messages_out},
//    "devices": [{index, name, memory_total, memory_used, sessions, busy_ns, queue_depth,
//                 batches, replays, inferences}],
//    "sessions": [{id, client, peer, device, memory, templates, batches}]}
// Sizes are bytes.
#pragma once

#include <string>
#include <string_view>

#include "server/status/status_view.h"

namespace rrto::server {

inline constexpr std::string_view kJsonContentType = "application/json";

std::string render_status_json(const StatusView& view);

}  // namespace rrto::server

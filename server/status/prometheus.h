// /metrics: a StatusView in the Prometheus text exposition format (0.0.4):
// HELP and TYPE lines, names prefixed rrto_, per-device series labelled
// device="<index>".
#pragma once

#include <string>
#include <string_view>

#include "server/status/status_view.h"

namespace rrto::server {

inline constexpr std::string_view kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

std::string render_prometheus(const StatusView& view);

}  // namespace rrto::server

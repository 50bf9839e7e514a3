// rrto-server --status: the /status JSON (status_json.h) as text for people:
// a summary of the server, then a table of devices and one of sessions.
#pragma once

#include <string>
#include <string_view>

namespace rrto::server {

// `from` names where the JSON came from (the status address). False with
// `error` set when the text is not a status document.
bool format_status_table(std::string_view json_text, std::string_view from, std::string& table, std::string& error);

}  // namespace rrto::server

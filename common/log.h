// The one logging facility. Level from RRTO_LOG (error, warn, info, debug,
// trace, off); errors only by default, so a normal run prints nothing. Formatting happens only when the level is on.
#pragma once

#include <fmt/format.h>

#include <string_view>

namespace rrto::log {

enum class Level : int { Off = 0, Error, Warn, Info, Debug, Trace };

// Read once from RRTO_LOG on first use.
Level level();
void set_level(Level l);
void write(Level l, std::string_view component, std::string_view message);

inline bool enabled(Level l) { return static_cast<int>(l) <= static_cast<int>(level()); }

template <typename... Args>
void emit(Level l, std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(l)) write(l, component, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace rrto::log

#define RRTO_ERROR(component, ...) ::rrto::log::emit(::rrto::log::Level::Error, component, __VA_ARGS__)
#define RRTO_WARN(component, ...) ::rrto::log::emit(::rrto::log::Level::Warn, component, __VA_ARGS__)
#define RRTO_INFO(component, ...) ::rrto::log::emit(::rrto::log::Level::Info, component, __VA_ARGS__)
#define RRTO_DEBUG(component, ...) ::rrto::log::emit(::rrto::log::Level::Debug, component, __VA_ARGS__)
#define RRTO_TRACE(component, ...) ::rrto::log::emit(::rrto::log::Level::Trace, component, __VA_ARGS__)

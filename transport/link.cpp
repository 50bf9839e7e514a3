#include "transport/link.h"

#include <time.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <vector>

#include <fmt/format.h>

namespace rrto::transport {
namespace {

using std::chrono::nanoseconds;

// Typical published figures; where each comes from is in perf/README.md.
constexpr std::array<LinkPreset, 5> kPresets{{
    {"lan", "rtt=0.2ms,bw=1gbit", "wired Gigabit Ethernet through one switch"},
    {"wifi6", "rtt=2ms,bw=600mbit", "Wi-Fi 6 (802.11ax, 2x2, 80 MHz), client near the access point"},
    {"wifi5", "rtt=4ms,bw=400mbit", "Wi-Fi 5 (802.11ac, 2x2, 80 MHz), client near the access point"},
    {"5g", "rtt=10ms,up=50mbit,down=300mbit", "5G NR mid-band to an edge server at the operator's site"},
    {"4g", "rtt=40ms,up=10mbit,down=40mbit", "4G LTE, for comparison"},
}};

// Longest delay a spec may ask for, one way.
constexpr nanoseconds kMaxOneWay = std::chrono::seconds(30);
// Sleeps overshoot by some tens of microseconds; the last stretch is spun.
constexpr nanoseconds kSpinTail = std::chrono::microseconds(50);
// How often a long wait hands control to keep_alive.
constexpr nanoseconds kKeepAliveSlice = std::chrono::milliseconds(10);

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "2.5ms" -> 2.5 and "ms". False when there is no number.
bool split_number(std::string_view text, double& number, std::string& unit) {
  const std::string s(text);
  char* end = nullptr;
  number = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || !std::isfinite(number)) return false;
  unit = lower(trim(std::string_view(end)));
  return true;
}

bool parse_time(std::string_view text, nanoseconds& out, std::string& why) {
  double value = 0;
  std::string unit;
  if (!split_number(text, value, unit)) {
    why = fmt::format("'{}' is not a time (e.g. 5ms)", text);
    return false;
  }
  double scale = 0;
  if (unit == "ns") scale = 1;
  else if (unit == "us") scale = 1e3;
  else if (unit == "ms") scale = 1e6;
  else if (unit == "s") scale = 1e9;
  else {
    why = unit.empty() ? fmt::format("'{}' needs a unit: us, ms or s", text)
                       : fmt::format("'{}': unknown time unit '{}' (use us, ms or s)", text, unit);
    return false;
  }
  if (value < 0) {
    why = fmt::format("'{}' is negative", text);
    return false;
  }
  const double ns = value * scale;
  if (ns > 2.0 * static_cast<double>(kMaxOneWay.count())) {
    why = fmt::format("'{}' is longer than a link emulation allows (60 s round trip)", text);
    return false;
  }
  out = nanoseconds(static_cast<int64_t>(std::llround(ns)));
  return true;
}

bool parse_rate(std::string_view text, uint64_t& out, std::string& why) {
  double value = 0;
  std::string unit;
  if (!split_number(text, value, unit)) {
    why = fmt::format("'{}' is not a bandwidth (e.g. 100mbit)", text);
    return false;
  }
  double scale = 0;
  if (unit == "bit") scale = 1;
  else if (unit == "kbit") scale = 1e3;
  else if (unit == "mbit") scale = 1e6;
  else if (unit == "gbit") scale = 1e9;
  else if (unit == "tbit") scale = 1e12;
  else {
    // tc reads "mbps" as megabytes per second; say so rather than guess.
    why = unit.empty() ? fmt::format("'{}' needs a unit: kbit, mbit or gbit", text)
                       : fmt::format("'{}': unknown bandwidth unit '{}' (use kbit, mbit or gbit, bits per second)",
                                     text, unit);
    return false;
  }
  const double bits = value * scale;
  if (!(bits >= 1)) {
    why = fmt::format("'{}' must be at least 1bit (leave it out for no limit)", text);
    return false;
  }
  if (bits > 1e15) {
    why = fmt::format("'{}' is more than a link emulation allows", text);
    return false;
  }
  out = static_cast<uint64_t>(std::llround(bits));
  return true;
}

std::string format_time(nanoseconds t) {
  const int64_t ns = t.count();
  if (ns % 1'000'000 == 0) return fmt::format("{}ms", ns / 1'000'000);
  if (ns % 1'000 == 0) {
    if (ns >= 1'000'000) return fmt::format("{}ms", static_cast<double>(ns) / 1e6);
    return fmt::format("{}us", ns / 1'000);
  }
  return fmt::format("{}ns", ns);
}

std::string format_rate(uint64_t bits) {
  if (bits % 1'000'000'000 == 0) return fmt::format("{}gbit", bits / 1'000'000'000);
  if (bits % 1'000'000 == 0) return fmt::format("{}mbit", bits / 1'000'000);
  if (bits % 1'000 == 0) return fmt::format("{}kbit", bits / 1'000);
  return fmt::format("{}bit", bits);
}

const LinkPreset* find_preset(std::string_view name) {
  for (const LinkPreset& p : kPresets)
    if (name == p.name) return &p;
  return nullptr;
}

std::string preset_names() {
  std::string names;
  for (const LinkPreset& p : kPresets) names += fmt::format("{}{}", names.empty() ? "" : ", ", p.name);
  return names;
}

// One "key=value" item.
bool apply_item(const std::string& key, std::string_view value, LinkProfile& link, std::vector<std::string>& seen,
                std::string& why) {
  const bool delay_key = key == "rtt" || key == "delay";
  const std::string slot = delay_key ? "rtt/delay" : key;
  if (std::find(seen.begin(), seen.end(), slot) != seen.end()) {
    why = delay_key ? std::string("give either rtt or delay, once") : fmt::format("'{}' is given twice", key);
    return false;
  }
  seen.push_back(slot);
  if (delay_key) {
    nanoseconds t{0};
    if (!parse_time(value, t, why)) return false;
    link.one_way = key == "rtt" ? t / 2 : t;
    if (link.one_way > kMaxOneWay) {
      why = fmt::format("'{}' is longer than a link emulation allows (30 s one way)", value);
      return false;
    }
  } else if (key == "bw" || key == "up" || key == "down") {
    uint64_t rate = 0;
    if (!parse_rate(value, rate, why)) return false;
    if (key != "down") link.up_bits_per_second = rate;
    if (key != "up") link.down_bits_per_second = rate;
  } else {
    why = fmt::format("unknown key '{}' (use rtt, delay, bw, up, down)", key);
    return false;
  }
  return true;
}

// Applies "key=value" items to `link`; `seen` catches repeats within one spec.
// up and down override bw whatever the order: they are applied last.
bool apply_items(const std::vector<std::string_view>& items, LinkProfile& link, std::vector<std::string>& seen,
                 std::string& why) {
  for (int pass = 0; pass < 2; ++pass) {
    for (std::string_view item : items) {
      const size_t eq = item.find('=');
      if (eq == std::string_view::npos) {
        why = fmt::format("'{}' is not key=value (keys: rtt, delay, bw, up, down; presets: {})", item, preset_names());
        return false;
      }
      const std::string key = lower(trim(item.substr(0, eq)));
      if ((key == "up" || key == "down") != (pass == 1)) continue;
      if (!apply_item(key, trim(item.substr(eq + 1)), link, seen, why)) return false;
    }
  }
  return true;
}

}  // namespace

std::span<const LinkPreset> link_presets() { return kPresets; }

nanoseconds LinkProfile::delay(LinkDirection direction, uint64_t bytes) const {
  const uint64_t rate = direction == LinkDirection::Up ? up_bits_per_second : down_bits_per_second;
  nanoseconds d = one_way;
  if (rate > 0) d += nanoseconds(static_cast<int64_t>(static_cast<double>(bytes) * 8.0 * 1e9 / static_cast<double>(rate)));
  return d;
}

std::string LinkProfile::describe() const {
  std::vector<std::string> parts;
  if (!preset.empty()) parts.push_back(preset);
  if (one_way.count() > 0 || !preset.empty()) parts.push_back("rtt=" + format_time(rtt()));
  if (up_bits_per_second == down_bits_per_second) {
    if (up_bits_per_second) parts.push_back("bw=" + format_rate(up_bits_per_second));
  } else {
    if (up_bits_per_second) parts.push_back("up=" + format_rate(up_bits_per_second));
    if (down_bits_per_second) parts.push_back("down=" + format_rate(down_bits_per_second));
  }
  if (parts.empty()) return "off";
  std::string text;
  for (const std::string& p : parts) text += (text.empty() ? "" : ",") + p;
  return text;
}

Status parse_link(std::string_view spec, LinkProfile& out, std::string& why) {
  spec = trim(spec);
  if (spec.empty() || lower(spec) == "off" || lower(spec) == "none") {
    out = LinkProfile{};
    return Status::Ok;
  }
  std::vector<std::string_view> items;
  size_t start = 0;
  while (start <= spec.size()) {
    const size_t comma = spec.find(',', start);
    const size_t end = comma == std::string_view::npos ? spec.size() : comma;
    const std::string_view item = trim(spec.substr(start, end - start));
    if (item.empty()) {
      why = "empty item (two commas in a row, or a trailing comma)";
      return Status::InvalidArgument;
    }
    items.push_back(item);
    start = end + 1;
  }

  LinkProfile link;
  if (items.front().find('=') == std::string_view::npos) {
    const std::string name = lower(items.front());
    const LinkPreset* preset = find_preset(name);
    if (!preset) {
      why = fmt::format("unknown preset '{}' (presets: {})", items.front(), preset_names());
      return Status::InvalidArgument;
    }
    std::vector<std::string_view> preset_items;
    std::string_view preset_spec = preset->spec;
    for (size_t at = 0; at <= preset_spec.size();) {
      const size_t comma = preset_spec.find(',', at);
      const size_t end = comma == std::string_view::npos ? preset_spec.size() : comma;
      preset_items.push_back(preset_spec.substr(at, end - at));
      at = end + 1;
    }
    std::vector<std::string> seen;
    if (!apply_items(preset_items, link, seen, why)) return Status::InternalError;
    link.preset = preset->name;
    items.erase(items.begin());
  }
  std::vector<std::string> seen;
  if (!apply_items(items, link, seen, why)) return Status::InvalidArgument;
  out = std::move(link);
  return Status::Ok;
}

void wait_until(std::chrono::steady_clock::time_point deadline, const std::function<void()>& keep_alive) {
  using clock = std::chrono::steady_clock;
  for (;;) {
    const auto now = clock::now();
    if (now >= deadline) return;
    if (deadline - now <= kSpinTail) break;
    auto wake = deadline - kSpinTail;
    if (keep_alive) wake = std::min(wake, now + kKeepAliveSlice);
    // steady_clock is CLOCK_MONOTONIC on Linux.
    const auto since_epoch = std::chrono::duration_cast<nanoseconds>(wake.time_since_epoch()).count();
    timespec ts{static_cast<time_t>(since_epoch / 1'000'000'000), static_cast<long>(since_epoch % 1'000'000'000)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
    }
    if (keep_alive) keep_alive();
  }
  while (clock::now() < deadline) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
}

void hold_message(const LinkProfile& link, LinkDirection direction, uint64_t bytes,
                  const std::function<void()>& keep_alive) {
  if (!link.enabled()) return;
  wait_until(std::chrono::steady_clock::now() + link.delay(direction, bytes), keep_alive);
}

}  // namespace rrto::transport

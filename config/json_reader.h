// Internal: a strict reader over nlohmann::json values. It tracks the JSON
// path of every value ("devices[1].memory_mb"), rejects unknown keys, checks
// types and ranges, and records the first problem in a ConfigError.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

#include "config/config.h"

namespace rrto::config::detail {

using nlohmann::json;

// Parses `text` into `out`. Syntax errors carry nlohmann's line and column; a
// key that appears twice in one object is an error too (nlohmann would keep
// the last one silently).
bool parse_json(std::string_view text, const std::string& origin, json& out, ConfigError& err);

std::string child_path(const std::string& parent, std::string_view key);
std::string index_path(const std::string& parent, size_t index);

// The error sink of one file: every check below returns false after
// recording the problem (only the first problem is kept).
class Reader {
 public:
  Reader(const std::string& origin, ConfigError& err) : origin_(origin), err_(err) {}

  bool fail(const std::string& path, std::string message);

  bool read_string(const json& v, const std::string& path, std::string& out, bool allow_empty);
  bool read_bool(const json& v, const std::string& path, bool& out);
  bool read_uint(const json& v, const std::string& path, uint64_t min, uint64_t max, uint64_t& out);
  // An integer or a fraction in [min, max].
  bool read_number(const json& v, const std::string& path, double min, double max, double& out);
  bool read_enum(const json& v, const std::string& path, std::span<const std::string_view> allowed,
                 std::string& out);
  // Calls `each(element, element_path)` for every element of an array of at
  // least `min_size` elements; stops at the first false.
  bool read_array(const json& v, const std::string& path, size_t min_size,
                  const std::function<bool(const json&, const std::string&)>& each);

 private:
  const std::string& origin_;
  ConfigError& err_;
};

enum class Need { Optional, Required };

// One JSON object. Construction checks that the value is an object whose keys
// are all in `known` (an unknown key is an error naming it, with a suggestion
// when it looks like a typo). The read_* calls leave `out` untouched when the
// key is absent and optional.
class Object {
 public:
  Object(Reader& r, const json& v, std::string path, std::initializer_list<std::string_view> known);

  bool ok() const { return ok_; }
  bool has(std::string_view key) const;
  std::string path(std::string_view key) const { return child_path(path_, key); }

  bool read_string(std::string_view key, std::string& out, Need need, bool allow_empty = true);
  bool read_bool(std::string_view key, bool& out, Need need = Need::Optional);
  bool read_uint(std::string_view key, uint64_t min, uint64_t max, uint64_t& out, Need need = Need::Optional);
  bool read_number(std::string_view key, double min, double max, double& out, Need need = Need::Optional);
  bool read_enum(std::string_view key, std::span<const std::string_view> allowed, std::string& out,
                 Need need);
  bool read_array(std::string_view key, size_t min_size,
                  const std::function<bool(const json&, const std::string&)>& each, Need need = Need::Optional);
  bool read_object(std::string_view key, std::initializer_list<std::string_view> known,
                   const std::function<bool(Object&)>& fill, Need need = Need::Optional);

 private:
  // The value under `key`; null when absent (an error when required).
  const json* find(std::string_view key, Need need);

  Reader& r_;
  const json& v_;
  std::string path_;
  bool ok_ = false;
};

}  // namespace rrto::config::detail

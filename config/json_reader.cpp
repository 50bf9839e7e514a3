#include "config/json_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <vector>

namespace rrto::config::detail {

namespace {

// "a string", "an integer", ... for messages.
std::string type_phrase(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::object: return "an object";
    case json::value_t::array: return "an array";
    case json::value_t::string: return "a string";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "an integer";
    case json::value_t::number_float: return "a floating-point number";
    default: return "something else";
  }
}

std::string expected(std::string_view what, const json& v) {
  return fmt::format("expected {}, got {}", what, type_phrase(v));
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string unknown_key_message(std::string_view key, std::initializer_list<std::string_view> known) {
  std::string_view best;
  size_t best_distance = 3;  // suggest only near misses
  for (std::string_view k : known) {
    size_t d = edit_distance(key, k);
    if (d < best_distance) best_distance = d, best = k;
  }
  if (!best.empty()) return fmt::format("unknown field (did you mean '{}'?)", best);
  return fmt::format("unknown field (known fields: {})", fmt::join(known, ", "));
}

// Tracks the open objects and arrays during parsing to find duplicate keys
// and name them by their path.
class DuplicateKeyFinder {
 public:
  bool on_event(json::parse_event_t event, const json& parsed) {
    using E = json::parse_event_t;
    switch (event) {
      case E::object_start: frames_.push_back({true, {}, {}, 0}); break;
      case E::array_start: frames_.push_back({false, {}, {}, 0}); break;
      case E::object_end:
      case E::array_end:
        if (!frames_.empty()) frames_.pop_back();
        element_done();
        break;
      case E::key: {
        Frame& f = frames_.back();
        f.key = parsed.get<std::string>();
        if (!f.keys.insert(f.key).second && duplicate_.empty()) duplicate_ = current_path();
        break;
      }
      case E::value: element_done(); break;
    }
    return true;
  }
  const std::string& duplicate() const { return duplicate_; }

 private:
  struct Frame {
    bool is_object;
    std::set<std::string> keys;
    std::string key;  // object: the key being read
    size_t index;     // array: the element being read
  };
  void element_done() {
    if (!frames_.empty() && !frames_.back().is_object) ++frames_.back().index;
  }
  std::string current_path() const {
    std::string path;
    for (const Frame& f : frames_) path = f.is_object ? child_path(path, f.key) : index_path(path, f.index);
    return path;
  }

  std::vector<Frame> frames_;
  std::string duplicate_;
};

}  // namespace

bool parse_json(std::string_view text, const std::string& origin, json& out, ConfigError& err) {
  DuplicateKeyFinder finder;
  try {
    out = json::parse(text, [&](int, json::parse_event_t event, json& parsed) {
      return finder.on_event(event, parsed);
    });
  } catch (const json::parse_error& e) {
    // what(): "[json.exception.parse_error.101] parse error at line 3, column 5: syntax error ..."
    std::string what = e.what();
    size_t at = what.find("parse error ");
    std::string detail = at == std::string::npos ? what : what.substr(at + 12);
    err = {origin, "", "invalid JSON " + detail};
    return false;
  } catch (const json::exception& e) {
    err = {origin, "", fmt::format("invalid JSON: {}", e.what())};
    return false;
  }
  if (!finder.duplicate().empty()) {
    err = {origin, finder.duplicate(), "appears twice in the same object"};
    return false;
  }
  return true;
}

std::string child_path(const std::string& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : fmt::format("{}.{}", parent, key);
}

std::string index_path(const std::string& parent, size_t index) { return fmt::format("{}[{}]", parent, index); }

// ---- Reader ----

bool Reader::fail(const std::string& path, std::string message) {
  err_ = {origin_, path, std::move(message)};
  return false;
}

bool Reader::read_string(const json& v, const std::string& path, std::string& out, bool allow_empty) {
  if (!v.is_string()) return fail(path, expected("a string", v));
  const auto& s = v.get_ref<const std::string&>();
  if (!allow_empty && s.empty()) return fail(path, "must not be empty");
  out = s;
  return true;
}

bool Reader::read_bool(const json& v, const std::string& path, bool& out) {
  if (!v.is_boolean()) return fail(path, expected("true or false", v));
  out = v.get<bool>();
  return true;
}

bool Reader::read_uint(const json& v, const std::string& path, uint64_t min, uint64_t max, uint64_t& out) {
  if (!v.is_number_integer()) return fail(path, expected("an integer", v));
  bool negative = !v.is_number_unsigned() && v.get<int64_t>() < 0;
  uint64_t n = negative ? 0 : v.get<uint64_t>();
  if (negative || n < min || n > max) {
    return fail(path, fmt::format("must be between {} and {}, got {}", min, max, v.dump()));
  }
  out = n;
  return true;
}

bool Reader::read_number(const json& v, const std::string& path, double min, double max, double& out) {
  if (!v.is_number()) return fail(path, expected("a number", v));
  const double n = v.get<double>();
  if (!(n >= min && n <= max)) return fail(path, fmt::format("must be between {} and {}, got {}", min, max, v.dump()));
  out = n;
  return true;
}

bool Reader::read_enum(const json& v, const std::string& path, std::span<const std::string_view> allowed,
                       std::string& out) {
  if (!v.is_string()) return fail(path, expected("a string", v));
  const auto& s = v.get_ref<const std::string&>();
  if (std::find(allowed.begin(), allowed.end(), s) == allowed.end()) {
    return fail(path, fmt::format("expected one of {}, got '{}'", fmt::join(allowed, ", "), s));
  }
  out = s;
  return true;
}

bool Reader::read_array(const json& v, const std::string& path, size_t min_size,
                        const std::function<bool(const json&, const std::string&)>& each) {
  if (!v.is_array()) return fail(path, expected("an array", v));
  if (v.size() < min_size) return fail(path, fmt::format("needs at least {} element(s)", min_size));
  for (size_t i = 0; i < v.size(); ++i) {
    if (!each(v[i], index_path(path, i))) return false;
  }
  return true;
}

// ---- Object ----

Object::Object(Reader& r, const json& v, std::string path, std::initializer_list<std::string_view> known)
    : r_(r), v_(v), path_(std::move(path)) {
  if (!v.is_object()) {
    if (path_.empty()) {
      r_.fail("", expected("a JSON object at the top level", v));
    } else {
      r_.fail(path_, expected("an object", v));
    }
    return;
  }
  for (const auto& [key, value] : v.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      r_.fail(child_path(path_, key), unknown_key_message(key, known));
      return;
    }
  }
  ok_ = true;
}

bool Object::has(std::string_view key) const { return ok_ && v_.contains(key); }

const json* Object::find(std::string_view key, Need need) {
  auto it = v_.find(key);
  if (it != v_.end()) return &*it;
  if (need == Need::Required) r_.fail(path(key), "missing required field");
  return nullptr;
}

bool Object::read_string(std::string_view key, std::string& out, Need need, bool allow_empty) {
  const json* v = find(key, need);
  return v ? r_.read_string(*v, path(key), out, allow_empty) : need == Need::Optional;
}

bool Object::read_bool(std::string_view key, bool& out, Need need) {
  const json* v = find(key, need);
  return v ? r_.read_bool(*v, path(key), out) : need == Need::Optional;
}

bool Object::read_uint(std::string_view key, uint64_t min, uint64_t max, uint64_t& out, Need need) {
  const json* v = find(key, need);
  return v ? r_.read_uint(*v, path(key), min, max, out) : need == Need::Optional;
}

bool Object::read_number(std::string_view key, double min, double max, double& out, Need need) {
  const json* v = find(key, need);
  return v ? r_.read_number(*v, path(key), min, max, out) : need == Need::Optional;
}

bool Object::read_enum(std::string_view key, std::span<const std::string_view> allowed, std::string& out,
                       Need need) {
  const json* v = find(key, need);
  return v ? r_.read_enum(*v, path(key), allowed, out) : need == Need::Optional;
}

bool Object::read_array(std::string_view key, size_t min_size,
                        const std::function<bool(const json&, const std::string&)>& each, Need need) {
  const json* v = find(key, need);
  return v ? r_.read_array(*v, path(key), min_size, each) : need == Need::Optional;
}

bool Object::read_object(std::string_view key, std::initializer_list<std::string_view> known,
                         const std::function<bool(Object&)>& fill, Need need) {
  const json* v = find(key, need);
  if (!v) return need == Need::Optional;
  Object inner(r_, *v, path(key), known);
  return inner.ok() && fill(inner);
}

}  // namespace rrto::config::detail

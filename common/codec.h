// Little-endian byte writer and bounds-checked reader. Every decode of bytes
// that came from outside the process goes through ByteReader: a read past the
// end sets a sticky failure flag instead of touching memory it must not.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace rrto {

class ByteWriter {
 public:
  explicit ByteWriter(std::vector<uint8_t>& out) : out_(out) {}

  template <typename T>
    requires std::is_trivially_copyable_v<T>
  void put(const T& v) {
    put_bytes(&v, sizeof(T));
  }
  // Appended as they are (a resize would zero the bytes first).
  void put_bytes(const void* p, size_t n) {
    const auto* bytes = static_cast<const uint8_t*>(p);
    if (n) out_.insert(out_.end(), bytes, bytes + n);
  }
  // Length-prefixed (u32) byte string.
  void put_blob(std::span<const uint8_t> b) {
    put<uint32_t>(static_cast<uint32_t>(b.size()));
    put_bytes(b.data(), b.size());
  }
  void put_string(std::string_view s) {
    put<uint32_t>(static_cast<uint32_t>(s.size()));
    put_bytes(s.data(), s.size());
  }
  // `n` more bytes at the end, for the caller to write (zeroed until then).
  uint8_t* extend(size_t n) {
    const size_t at = out_.size();
    out_.resize(at + n);
    return out_.data() + at;
  }
  size_t size() const { return out_.size(); }
  std::vector<uint8_t>& buffer() { return out_; }

 private:
  std::vector<uint8_t>& out_;
};

class ByteReader {
 public:
  ByteReader() = default;
  ByteReader(const void* p, size_t n) : p_(static_cast<const uint8_t*>(p)), n_(n) {}
  explicit ByteReader(std::span<const uint8_t> s) : ByteReader(s.data(), s.size()) {}

  template <typename T>
    requires std::is_trivially_copyable_v<T>
  bool get(T& v) {
    if (!take(sizeof(T))) return false;
    std::memcpy(&v, p_ + pos_ - sizeof(T), sizeof(T));
    return true;
  }
  template <typename T>
  T get_or(T fallback) {
    T v{};
    return get(v) ? v : fallback;
  }
  // A view of the next n bytes; empty and failed if fewer remain.
  std::span<const uint8_t> get_bytes(size_t n) {
    if (!take(n)) return {};
    return {p_ + pos_ - n, n};
  }
  std::span<const uint8_t> get_blob() {
    uint32_t n = 0;
    if (!get(n)) return {};
    return get_bytes(n);
  }
  bool get_string(std::string& s) {
    uint32_t n = 0;
    if (!get(n)) return false;
    auto b = get_bytes(n);
    if (failed_) return false;
    s.assign(reinterpret_cast<const char*>(b.data()), b.size());
    return true;
  }

  size_t remaining() const { return n_ - pos_; }
  size_t position() const { return pos_; }
  bool failed() const { return failed_; }
  // True when everything was read and nothing failed.
  bool done() const { return !failed_ && pos_ == n_; }

 private:
  bool take(size_t n) {
    if (failed_ || n > n_ - pos_) {
      failed_ = true;
      return false;
    }
    pos_ += n;
    return true;
  }

  const uint8_t* p_ = nullptr;
  size_t n_ = 0;
  size_t pos_ = 0;
  bool failed_ = false;
};

}  // namespace rrto

// Encoding and bounds-checked decoding of request batches and their replies.
//
// Request metadata:  u32 call count, then per call: u16 CallOp, u32 body length, body.
// Reply metadata:    u32 CUresult, u32 index of the call it belongs to, result body of
//                    the last call (empty unless it succeeded).
#pragma once

#include <cstdint>
#include <span>
#include <type_traits>
#include <vector>

#include "common/codec.h"
#include "protocol/calls.h"

namespace rrto::proto {

namespace detail {

// The encoded size of a call's or result's fields.
struct EncodedSize {
  size_t bytes = 0;
  void operator()(const Bytes& b) { bytes += sizeof(uint32_t) + b.size(); }
  void operator()(const Text& t) { bytes += sizeof(uint32_t) + t.size(); }
  template <typename T>
    requires std::is_arithmetic_v<T>
  void operator()(const T&) { bytes += sizeof(T); }
};

// Writes fields at `at`, which has room for them (EncodedSize).
struct InPlaceEncoder {
  uint8_t* at;
  void put(const void* p, size_t n) {
    if (n) std::memcpy(at, p, n);
    at += n;
  }
  void operator()(const Bytes& b) { blob(b.data(), b.size()); }
  void operator()(const Text& t) { blob(t.data(), t.size()); }
  template <typename T>
    requires std::is_arithmetic_v<T>
  void operator()(const T& v) { put(&v, sizeof(T)); }
  void blob(const void* p, size_t n) {
    const auto length = static_cast<uint32_t>(n);
    put(&length, sizeof length);
    put(p, n);
  }
};

struct Decoder {
  ByteReader& r;
  void operator()(Bytes& b) { b = r.get_blob(); }
  void operator()(Text& t) {
    auto b = r.get_blob();
    t = Text(reinterpret_cast<const char*>(b.data()), b.size());
  }
  template <typename T>
    requires std::is_arithmetic_v<T>
  void operator()(T& v) { r.get(v); }
};

}  // namespace detail

template <typename Fields>
size_t encoded_size(Fields& fields) {
  detail::EncodedSize size;
  fields.fields(size);
  return size.bytes;
}

// Appends the fields: the buffer grows once, then each is copied in place.
template <typename Fields>
void encode_fields(ByteWriter& w, Fields& fields) {
  fields.fields(detail::InPlaceEncoder{w.extend(encoded_size(fields))});
}

// True when the body held exactly these fields.
template <typename Fields>
bool decode_fields(std::span<const uint8_t> body, Fields& out) {
  ByteReader r(body);
  out.fields(detail::Decoder{r});
  return r.done();
}

class BatchWriter {
 public:
  BatchWriter() { clear(); }

  void clear() {
    meta_.resize(sizeof count_);
    count_ = 0;
    std::memcpy(meta_.data(), &count_, sizeof count_);
  }

  template <typename Call>
  void add(Call call) {
    const auto op = static_cast<uint16_t>(kCallOp<Call>);
    const auto length = static_cast<uint32_t>(encoded_size(call));
    detail::InPlaceEncoder out{ByteWriter(meta_).extend(sizeof op + sizeof length + length)};
    out(op);
    out(length);
    call.fields(out);
    ++count_;
    std::memcpy(meta_.data(), &count_, sizeof count_);
  }

  // Adds every call of `other`, as encoded there.
  void append(const BatchWriter& other) {
    meta_.insert(meta_.end(), other.meta_.begin() + sizeof count_, other.meta_.end());
    count_ += other.count_;
    std::memcpy(meta_.data(), &count_, sizeof count_);
  }

  uint32_t count() const { return count_; }
  bool empty() const { return count_ == 0; }
  size_t size() const { return meta_.size(); }

  // Drops the calls added after the batch had `count` calls and `size` bytes.
  void truncate(uint32_t count, size_t size) {
    meta_.resize(size);
    count_ = count;
    std::memcpy(meta_.data(), &count_, sizeof count_);
  }
  std::span<const uint8_t> bytes() const { return meta_; }

 private:
  std::vector<uint8_t> meta_;
  uint32_t count_ = 0;
};

struct CallView {
  CallOp op;
  std::span<const uint8_t> body;
};

class BatchReader {
 public:
  explicit BatchReader(std::span<const uint8_t> meta) : r_(meta) { r_.get(count_); }

  uint32_t count() const { return count_; }
  // Next call of the batch; false at the end or on malformed input (see failed()).
  bool next(CallView& call) {
    if (read_ == count_ || r_.failed()) return false;
    uint16_t op = 0;
    uint32_t length = 0;
    if (!r_.get(op) || !r_.get(length)) return false;
    call.body = r_.get_bytes(length);
    if (r_.failed()) return false;
    if (!is_call_op(op)) {
      bad_op_ = true;
      return false;
    }
    call.op = static_cast<CallOp>(op);
    ++read_;
    return true;
  }
  // Malformed: truncated, an unknown call, or bytes left after the last call.
  bool failed() const { return r_.failed() || bad_op_ || (read_ == count_ && r_.remaining() != 0); }

 private:
  ByteReader r_;
  uint32_t count_ = 0;
  uint32_t read_ = 0;
  bool bad_op_ = false;
};

struct ReplyHeader {
  uint32_t status = 0;      // CUresult
  uint32_t call_index = 0;  // which call of the batch the status belongs to
};

inline void encode_reply_header(ByteWriter& w, const ReplyHeader& h) {
  w.put(h.status);
  w.put(h.call_index);
}

// The encoded header's size, and the header written over the first bytes of
// a reply that left room for it (the result body follows).
inline constexpr size_t kReplyHeaderBytes = sizeof(ReplyHeader::status) + sizeof(ReplyHeader::call_index);
inline void write_reply_header(uint8_t* at, const ReplyHeader& h) {
  std::memcpy(at, &h.status, sizeof(h.status));
  std::memcpy(at + sizeof(h.status), &h.call_index, sizeof(h.call_index));
}

// Splits a reply into its header and the last call's result body.
inline bool decode_reply(std::span<const uint8_t> meta, ReplyHeader& h, std::span<const uint8_t>& result) {
  ByteReader r(meta);
  if (!r.get(h.status) || !r.get(h.call_index)) return false;
  result = r.get_bytes(r.remaining());
  return true;
}

}  // namespace rrto::proto

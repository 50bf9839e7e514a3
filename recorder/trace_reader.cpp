#include "recorder/trace_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "common/codec.h"
#include "recorder/hash.h"
#include "recorder/trace_format.h"

namespace rrto {

namespace tf = trace_format;

namespace {

const char* tag_name(uint8_t tag) {
  switch (tag) {
    case tf::kTagKernel: return "kernel";
    case tf::kTagOp: return "op";
    case tf::kTagEnd: return "end";
  }
  return "unknown";
}

Dim3 get_dim3(ByteReader& r) {
  Dim3 d;
  r.get(d.x);
  r.get(d.y);
  r.get(d.z);
  return d;
}

}  // namespace

Status TraceReader::fail(Status s, size_t offset, std::string what) {
  error_ = "offset " + std::to_string(offset) + ": " + std::move(what);
  return s;
}

Status TraceReader::read_file(const std::string& path, Trace& out) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error_ = path + ": " + std::strerror(errno);
    return Status::IoError;
  }
  std::vector<uint8_t> bytes;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && st.st_size > 0) bytes.reserve(static_cast<size_t>(st.st_size));
  uint8_t block[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, block, sizeof(block));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error_ = path + ": " + std::strerror(errno);
      ::close(fd);
      return Status::IoError;
    }
    if (n == 0) break;
    bytes.insert(bytes.end(), block, block + n);
  }
  ::close(fd);
  const Status s = read_bytes(bytes, out);
  if (s != Status::Ok) error_ = path + ": " + error_;
  return s;
}

Status TraceReader::read_bytes(std::span<const uint8_t> bytes, Trace& out) {
  error_.clear();
  kernels_ = 0;
  if (bytes.size() < tf::kHeaderBytes) {
    return fail(Status::ProtocolError, 0,
                "truncated header: " + std::to_string(bytes.size()) + " bytes, a trace starts with " +
                    std::to_string(tf::kHeaderBytes));
  }
  if (std::memcmp(bytes.data(), tf::kMagic, sizeof(tf::kMagic)) != 0) {
    return fail(Status::ProtocolError, 0, "not an RRTO trace (bad magic)");
  }
  ByteReader header(bytes.subspan(sizeof(tf::kMagic), 8));
  const auto version = header.get_or<uint32_t>(0);
  if (version < tf::kOldestVersion || version > tf::kVersion) {
    return fail(Status::ProtocolError, 8,
                "unsupported trace version " + std::to_string(version) + " (this build reads " +
                    std::to_string(tf::kOldestVersion) + " to " + std::to_string(tf::kVersion) + ")");
  }
  if (const auto reserved = header.get_or<uint32_t>(0); reserved != 0) {
    return fail(Status::ProtocolError, 12, "reserved header field is " + std::to_string(reserved) + ", not 0");
  }

  size_t at = tf::kHeaderBytes;
  while (at < bytes.size()) {
    ByteReader r(bytes.subspan(at));
    uint8_t tag = 0;
    uint32_t length = 0;
    if (!r.get(tag) || !r.get(length)) {
      return fail(Status::ProtocolError, at,
                  "truncated record header (" + std::to_string(bytes.size() - at) + " bytes left, need 5)");
    }
    if (length > tf::kMaxRecordBytes) {
      return fail(Status::ProtocolError, at,
                  std::string(tag_name(tag)) + " record length " + std::to_string(length) + " is past the limit");
    }
    const auto payload = r.get_bytes(length);
    uint32_t check = 0;
    if (!r.get(check)) {
      return fail(Status::ProtocolError, at,
                  "truncated " + std::string(tag_name(tag)) + " record: needs " +
                      std::to_string(length + tf::kRecordOverhead) + " bytes, " + std::to_string(bytes.size() - at) +
                      " left");
    }
    if (static_cast<uint32_t>(hash_bytes(payload.data(), payload.size(), kHashSeed ^ tag)) != check) {
      return fail(Status::ProtocolError, at,
                  std::string(tag_name(tag)) + " record checksum mismatch (corrupt data)");
    }

    Status s = Status::Ok;
    switch (tag) {
      case tf::kTagKernel: s = read_kernel(payload, at, out); break;
      case tf::kTagOp: s = read_op(payload, at, out); break;
      case tf::kTagEnd: {
        ByteReader e(payload);
        const auto ops = e.get_or<uint64_t>(0);
        const auto kernels = e.get_or<uint32_t>(0);
        if (!e.done()) return fail(Status::ProtocolError, at, "end record of the wrong size");
        if (ops != out.size() || kernels != kernels_) {
          return fail(Status::ProtocolError, at,
                      "end record counts " + std::to_string(ops) + " ops and " + std::to_string(kernels) +
                          " kernels, the file holds " + std::to_string(out.size()) + " and " +
                          std::to_string(kernels_));
        }
        const size_t end = at + tf::kRecordOverhead + length;
        if (end != bytes.size()) {
          return fail(Status::ProtocolError, end,
                      std::to_string(bytes.size() - end) + " bytes after the end record");
        }
        return Status::Ok;
      }
      default: return fail(Status::ProtocolError, at, "unknown record tag " + std::to_string(tag));
    }
    if (s != Status::Ok) return s;
    at += tf::kRecordOverhead + length;
  }
  return fail(Status::ProtocolError, at,
              "truncated: the file ends without an end record (after " + std::to_string(out.size()) + " ops)");
}

Status TraceReader::read_kernel(std::span<const uint8_t> payload, size_t offset, Trace& out) {
  ByteReader r(payload);
  uint32_t id = 0;
  uint64_t module_hash = 0;
  uint32_t name_len = 0;
  if (!r.get(id) || !r.get(module_hash) || !r.get(name_len) || name_len > tf::kMaxNameBytes) {
    return fail(Status::ProtocolError, offset, "malformed kernel record");
  }
  const auto name = r.get_bytes(name_len);
  uint32_t n = 0;
  if (!r.get(n) || n > tf::kMaxParams || r.remaining() != static_cast<size_t>(n) * 8) {
    return fail(Status::ProtocolError, offset, "malformed kernel record (parameter list)");
  }
  std::vector<KernelParam> params(n);
  for (KernelParam& p : params) {
    r.get(p.offset);
    r.get(p.size);
    if (static_cast<uint64_t>(p.offset) + p.size > tf::kMaxArgBytes) {
      return fail(Status::ProtocolError, offset, "kernel parameter past the largest parameter buffer");
    }
  }
  const std::string_view name_view(reinterpret_cast<const char*>(name.data()), name.size());
  if (!out.kernels().define(id, module_hash, name_view, params)) {
    return fail(Status::ProtocolError, offset,
                "kernel id " + std::to_string(id) + " (" + std::string(name_view) + ") defined twice");
  }
  ++kernels_;
  return Status::Ok;
}

Status TraceReader::read_op(std::span<const uint8_t> payload, size_t offset, Trace& out) {
  ByteReader r(payload);
  uint8_t kind = 0;
  Op op;
  if (!r.get(kind) || !r.get(op.flags)) return fail(Status::ProtocolError, offset, "malformed op record");
  if (kind >= kOpKindCount) return fail(Status::ProtocolError, offset, "unknown op kind " + std::to_string(kind));
  op.kind = static_cast<OpKind>(kind);
  std::span<const uint8_t> args;
  switch (op.kind) {
    case OpKind::KernelLaunch: {
      uint32_t id = kNoKernel;
      r.get(id);
      op.grid = get_dim3(r);
      op.block = get_dim3(r);
      r.get(op.shared_mem);
      r.get(op.stream);
      uint32_t n = 0;
      if (r.get(n) && n > tf::kMaxArgBytes) {
        return fail(Status::ProtocolError, offset, "launch with " + std::to_string(n) + " argument bytes");
      }
      args = r.get_bytes(n);
      if (r.failed()) break;
      op.kernel = out.kernels().find(id);
      if (!op.kernel) {
        return fail(Status::ProtocolError, offset, "launch of undefined kernel id " + std::to_string(id));
      }
      break;
    }
    case OpKind::MemcpyHtoD:
    case OpKind::MemcpyDtoH:
    case OpKind::MemcpyDtoD:
      r.get(op.dst);
      r.get(op.src);
      r.get(op.bytes);
      r.get(op.stream);
      break;
    case OpKind::Memset:
      r.get(op.dst);
      r.get(op.value);
      r.get(op.elem_size);
      r.get(op.bytes);
      r.get(op.stream);
      if (!r.failed() && op.elem_size != 1 && op.elem_size != 2 && op.elem_size != 4) {
        return fail(Status::ProtocolError, offset, "memset element size " + std::to_string(op.elem_size));
      }
      break;
    case OpKind::EventRecord:
      r.get(op.event);
      r.get(op.stream);
      break;
    case OpKind::StreamWaitEvent:
      r.get(op.stream);
      r.get(op.event);
      op.value = r.get_or<uint32_t>(0);  // a short record still fails the reader
      break;
    case OpKind::StreamSynchronize:
      r.get(op.stream);
      break;
    case OpKind::ContextSynchronize:
      break;
  }
  if (op.is_2d()) {
    r.get(op.rows);
    r.get(op.dst_pitch);
    r.get(op.src_pitch);
  }
  if (!r.done()) {
    return fail(Status::ProtocolError, offset,
                std::string(op_kind_name(op.kind)) + " op record of the wrong size (" +
                    std::to_string(payload.size()) + " bytes)");
  }
  op.args = args.data();
  op.args_size = static_cast<uint32_t>(args.size());
  op.seal();
  out.append(op);
  return Status::Ok;
}

}  // namespace rrto

#include "recorder/trace_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/codec.h"
#include "recorder/hash.h"
#include "recorder/trace_format.h"

namespace rrto {

namespace tf = trace_format;

namespace {

constexpr size_t kFlushBytes = 1u << 20;
// Ids past this are not from a KernelTable's dense numbering.
constexpr KernelId kMaxWriterKernelId = 1u << 22;

void put_dim3(ByteWriter& w, Dim3 d) {
  w.put<uint32_t>(d.x);
  w.put<uint32_t>(d.y);
  w.put<uint32_t>(d.z);
}

}  // namespace

TraceWriter::~TraceWriter() { close(); }

Status TraceWriter::fail(Status s, std::string message) {
  if (sticky_ == Status::Ok) {
    sticky_ = s;
    error_ = std::move(message);
  }
  return sticky_;
}

Status TraceWriter::open(const std::string& path) {
  if (fd_ >= 0) return fail(Status::InvalidArgument, "trace writer already open");
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) return fail(Status::IoError, path + ": " + std::strerror(errno));
  path_ = path;
  buf_.reserve(kFlushBytes + 64 * 1024);
  ByteWriter w(buf_);
  w.put_bytes(tf::kMagic, sizeof(tf::kMagic));
  w.put<uint32_t>(tf::kVersion);
  w.put<uint32_t>(0);
  return Status::Ok;
}

size_t TraceWriter::begin_record(uint8_t tag) {
  const size_t start = buf_.size();
  ByteWriter w(buf_);
  w.put<uint8_t>(tag);
  w.put<uint32_t>(0);  // length, patched by end_record
  return start;
}

void TraceWriter::end_record(size_t start) {
  const uint8_t tag = buf_[start];
  const size_t payload_at = start + 5;
  const auto length = static_cast<uint32_t>(buf_.size() - payload_at);
  std::memcpy(buf_.data() + start + 1, &length, 4);
  const auto check = static_cast<uint32_t>(hash_bytes(buf_.data() + payload_at, length, kHashSeed ^ tag));
  ByteWriter(buf_).put<uint32_t>(check);
}

Status TraceWriter::define_kernel(const KernelDef& kernel) {
  if (kernel.id >= kMaxWriterKernelId) {
    return fail(Status::InvalidArgument, "kernel id " + std::to_string(kernel.id) + " is not from a KernelTable");
  }
  if (defined_.size() <= kernel.id) defined_.resize(kernel.id + 1, nullptr);
  if (defined_[kernel.id] == &kernel) return Status::Ok;
  if (defined_[kernel.id]) {
    return fail(Status::InvalidArgument,
                "kernel id " + std::to_string(kernel.id) + " names two kernels (ops from two KernelTables)");
  }
  defined_[kernel.id] = &kernel;
  ++kernels_;
  const size_t start = begin_record(tf::kTagKernel);
  ByteWriter w(buf_);
  w.put<uint32_t>(kernel.id);
  w.put<uint64_t>(kernel.module_hash);
  w.put_string(kernel.name);
  w.put<uint32_t>(static_cast<uint32_t>(kernel.params.size()));
  for (const KernelParam& p : kernel.params) {
    w.put<uint32_t>(p.offset);
    w.put<uint32_t>(p.size);
  }
  end_record(start);
  return Status::Ok;
}

Status TraceWriter::write(const Op& op) {
  if (sticky_ != Status::Ok) return sticky_;
  if (fd_ < 0) return fail(Status::InvalidArgument, "trace writer not open");
  if (static_cast<size_t>(op.kind) >= kOpKindCount) return fail(Status::InvalidArgument, "op of unknown kind");
  if (op.args_size > tf::kMaxArgBytes) {
    return fail(Status::InvalidArgument, "launch with " + std::to_string(op.args_size) + " argument bytes");
  }
  if (op.kind == OpKind::KernelLaunch) {
    if (!op.kernel) return fail(Status::InvalidArgument, "launch op without a kernel");
    if (Status s = define_kernel(*op.kernel); s != Status::Ok) return s;
  }
  const size_t start = begin_record(tf::kTagOp);
  ByteWriter w(buf_);
  w.put<uint8_t>(static_cast<uint8_t>(op.kind));
  w.put<uint8_t>(op.flags);
  switch (op.kind) {
    case OpKind::KernelLaunch:
      w.put<uint32_t>(op.kernel->id);
      put_dim3(w, op.grid);
      put_dim3(w, op.block);
      w.put<uint32_t>(op.shared_mem);
      w.put<uint64_t>(op.stream);
      w.put_blob(op.arg_bytes());
      break;
    case OpKind::MemcpyHtoD:
    case OpKind::MemcpyDtoH:
    case OpKind::MemcpyDtoD:
      w.put<uint64_t>(op.dst);
      w.put<uint64_t>(op.src);
      w.put<uint64_t>(op.bytes);
      w.put<uint64_t>(op.stream);
      break;
    case OpKind::Memset:
      w.put<uint64_t>(op.dst);
      w.put<uint64_t>(op.value);
      w.put<uint8_t>(op.elem_size);
      w.put<uint64_t>(op.bytes);
      w.put<uint64_t>(op.stream);
      break;
    case OpKind::EventRecord:
      w.put<uint64_t>(op.event);
      w.put<uint64_t>(op.stream);
      break;
    case OpKind::StreamWaitEvent:
      w.put<uint64_t>(op.stream);
      w.put<uint64_t>(op.event);
      w.put<uint32_t>(static_cast<uint32_t>(op.value));
      break;
    case OpKind::StreamSynchronize:
      w.put<uint64_t>(op.stream);
      break;
    case OpKind::ContextSynchronize:
      break;
  }
  if (op.is_2d()) {
    w.put<uint64_t>(op.rows);
    w.put<uint64_t>(op.dst_pitch);
    w.put<uint64_t>(op.src_pitch);
  }
  end_record(start);
  ++ops_;
  return buf_.size() >= kFlushBytes ? write_out() : Status::Ok;
}

Status TraceWriter::write_out() {
  size_t done = 0;
  while (done < buf_.size()) {
    const ssize_t n = ::write(fd_, buf_.data() + done, buf_.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail(Status::IoError, path_ + ": write failed: " + std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  buf_.clear();
  return Status::Ok;
}

Status TraceWriter::flush() {
  if (sticky_ != Status::Ok) return sticky_;
  if (fd_ < 0) return fail(Status::InvalidArgument, "trace writer not open");
  return write_out();
}

Status TraceWriter::close() {
  if (fd_ < 0) return sticky_;
  if (sticky_ == Status::Ok) {
    const size_t start = begin_record(tf::kTagEnd);
    ByteWriter w(buf_);
    w.put<uint64_t>(ops_);
    w.put<uint32_t>(kernels_);
    end_record(start);
    write_out();
  }
  if (::close(fd_) != 0) fail(Status::IoError, path_ + ": close failed: " + std::strerror(errno));
  fd_ = -1;
  return sticky_;
}

}  // namespace rrto

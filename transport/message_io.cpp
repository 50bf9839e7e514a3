#include "transport/message_io.h"

#include <cstring>

#include "transport/wire.h"

namespace rrto::transport {

Status Outgoing::start(ucp_ep_h ep, size_t max_am_header, uint16_t opcode, uint32_t wire_flags,
                       std::span<const uint8_t> meta, std::span<const Segment> bulk, uint32_t am_flags,
                       Completion& done, void*& request) {
  request = nullptr;
  if (meta.size() > kMaxMetaLength) return Status::InvalidArgument;
  uint64_t bulk_length = 0;
  for (const Segment& s : bulk) {
    if (s.length && !s.data) return Status::InvalidArgument;
    bulk_length += s.length;
  }
  if (bulk_length > kMaxBulkLength) return Status::InvalidArgument;

  const bool meta_inline = sizeof(WireHeader) + meta.size() <= max_am_header;
  if (!meta_inline) wire_flags |= wire::kFlagMetaInData;
  const WireHeader h =
      wire::make_header(opcode, static_cast<uint32_t>(meta.size()), bulk_length, wire_flags);
  const size_t header_size = sizeof(WireHeader) + (meta_inline ? meta.size() : 0);
  uint8_t* header = small_header_;
  if (header_size > kSmallHeader) {
    header_.resize(header_size);
    header = header_.data();
  }
  std::memcpy(header, &h, sizeof(h));
  if (meta_inline && !meta.empty()) std::memcpy(header + sizeof(h), meta.data(), meta.size());

  iov_.clear();
  if (!meta_inline && !meta.empty()) iov_.push_back({const_cast<uint8_t*>(meta.data()), meta.size()});
  for (const Segment& s : bulk) {
    if (s.length) iov_.push_back({const_cast<void*>(s.data), s.length});
  }

  ucp_request_param_t param = send_param(done);
  param.op_attr_mask |= UCP_OP_ATTR_FIELD_FLAGS;
  param.flags = am_flags;
  const void* buffer = nullptr;
  size_t count = 0;
  if (iov_.size() == 1) {
    buffer = iov_[0].buffer;
    count = iov_[0].length;
  } else if (iov_.size() > 1) {
    param.op_attr_mask |= UCP_OP_ATTR_FIELD_DATATYPE;
    param.datatype = ucp_dt_make_iov();
    buffer = iov_.data();
    count = iov_.size();
  }
  request = track(ucp_am_send_nbx(ep, wire::kAmId, header, header_size, buffer, count, &param), done);
  return Status::Ok;
}

void* receive_data(ucp_worker_h worker, void* descriptor, std::span<const ucp_dt_iov_t> parts,
                   Completion& done) {
  ucp_request_param_t param = recv_param(done);
  const void* buffer = nullptr;
  size_t count = 0;
  if (parts.size() == 1) {
    buffer = parts[0].buffer;
    count = parts[0].length;
  } else if (parts.size() > 1) {
    param.op_attr_mask |= UCP_OP_ATTR_FIELD_DATATYPE;
    param.datatype = ucp_dt_make_iov();
    buffer = parts.data();
    count = parts.size();
  }
  return track(ucp_am_recv_data_nbx(worker, descriptor, const_cast<void*>(buffer), count, &param), done);
}

}  // namespace rrto::transport

#include "client/mapped_memory.h"

#include <cstring>

#include "client/client.h"

namespace rrto::client {

HostRange* MappedMemory::find_host(const void* p) {
  auto it = ranges_.upper_bound(p);
  if (it == ranges_.begin()) return nullptr;
  --it;
  const auto* base = static_cast<const uint8_t*>(it->first);
  return static_cast<const uint8_t*>(p) < base + it->second.size ? &it->second : nullptr;
}

std::pair<const void*, HostRange*> MappedMemory::find_shadow(CUdeviceptr p) {
  if (mapped_ == 0) return {nullptr, nullptr};
  for (auto& [base, r] : ranges_)
    if (r.shadow && p >= r.shadow && p - r.shadow < r.size) return {base, &r};
  return {nullptr, nullptr};
}

bool MappedMemory::touches_shadow(CUdeviceptr p, size_t size) const {
  for (const auto& [base, r] : ranges_)
    if (r.shadow && p < r.shadow + r.size && r.shadow < p + size) return true;
  return false;
}

bool MappedMemory::overlaps(const void* p, size_t size) const {
  const auto* start = static_cast<const uint8_t*>(p);
  auto it = ranges_.lower_bound(start + size);
  if (it == ranges_.begin()) return false;
  --it;
  return static_cast<const uint8_t*>(it->first) + it->second.size > start;
}

void MappedMemory::add(const void* host, HostRange range) {
  if (range.shadow) ++mapped_;
  ranges_[host] = std::move(range);
}

CUdeviceptr MappedMemory::remove(const void* host) {
  auto it = ranges_.find(host);
  if (it == ranges_.end()) return 0;
  const CUdeviceptr shadow = it->second.shadow;
  ranges_.erase(it);
  if (shadow && --mapped_ == 0) device_wrote_ = false;
  return shadow;
}

namespace {

// The upload sends `known` itself: it stays untouched until the next
// download, which comes after the queue holding the upload has been sent.
CUresult upload(ClientState& state, HostRange& range, const void* host, uint64_t stream) {
  std::memcpy(range.known.data(), host, range.size);
  proto::MemcpyHtoD call{.dst = range.shadow, .size = range.size, .bulk_offset = 0, .stream = stream};
  if (state.on_operator(call, range.known.data(), true)) return CUDA_SUCCESS;
  call.bulk_offset = state.remote.add_bulk_ref(range.known.data(), range.size);
  state.unsynced_streams.insert(stream);
  return state.remote.defer(call);
}

// Takes into the host range the bytes the device changed since the client
// last saw the shadow; the host's own writes elsewhere in it stay.
void merge_download(HostRange& range, void* host) {
  auto* out = static_cast<uint8_t*>(host);
  const uint8_t* now = range.incoming.data();
  const uint8_t* before = range.known.data();
  for (size_t i = 0; i < range.size; ++i)
    if (now[i] != before[i]) out[i] = now[i];
  range.known.swap(range.incoming);
}

CUresult download(ClientState& state, HostRange& range, void* host, uint64_t stream) {
  proto::MemcpyDtoH call{.src = range.shadow, .size = range.size, .stream = stream};
  if (state.on_operator(call, range.incoming.data(), false)) {
    std::memcpy(range.incoming.data(), state.replayer.served_output(), range.size);
  } else {
    const CUresult r = state.remote.call_for_bulk(call, range.incoming.data(), range.size);
    if (r != CUDA_SUCCESS) return r;
    if (state.remote.last_bulk_received() != range.size) return CUDA_ERROR_UNKNOWN;
  }
  merge_download(range, host);
  return CUDA_SUCCESS;
}

}  // namespace

CUresult upload_mapped_ranges(ClientState& state, uint64_t stream) {
  MappedMemory& mapped = state.mapped;
  if (mapped.device_may_have_written()) return CUDA_SUCCESS;
  mapped.set_device_may_have_written(true);
  for (auto& [host, range] : mapped.ranges()) {
    if (!range.shadow) continue;
    if (const CUresult r = upload(state, range, host, stream)) return r;
  }
  return CUDA_SUCCESS;
}

CUresult download_mapped_ranges(ClientState& state, uint64_t stream) {
  MappedMemory& mapped = state.mapped;
  for (auto& [host, range] : mapped.ranges()) {
    if (!range.shadow || (range.registered && (range.flags & CU_MEMHOSTREGISTER_READ_ONLY))) continue;
    if (const CUresult r = download(state, range, const_cast<void*>(host), stream)) return r;
  }
  state.unsynced_streams.erase(stream);  // the server waited for the stream before copying
  // Work on streams nobody has waited for may still write the shadows.
  mapped.set_device_may_have_written(!state.unsynced_streams.empty());
  return CUDA_SUCCESS;
}

}  // namespace rrto::client

#include "server/session_manager.h"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "common/limits.h"
#include "common/log.h"
#include "common/printable.h"
#include "protocol/batch.h"
#include "server/byte_size.h"

namespace rrto::server {
namespace {

constexpr const char* kLog = "server";

// The one copy of a batch whose payload is the whole bulk, which can be
// received straight into device memory: a batch of exactly one MemcpyHtoD,
// or of one ReplaySegment of a stretch whose only input copy comes first.
const proto::MemcpyHtoD* whole_bulk_copy(const Session& session, std::span<const DecodedCall> calls) {
  if (compressed_bulk(calls)) calls = calls.subspan(1);  // it lands (decompressed) the same way
  if (calls.size() != 1) return nullptr;
  if (const auto* copy = std::get_if<proto::MemcpyHtoD>(&calls[0].call))
    return copy->bulk_offset == 0 ? copy : nullptr;
  const auto* replay = std::get_if<proto::ReplaySegment>(&calls[0].call);
  if (!replay || replay->input_offset != 0) return nullptr;
  const TemplateStore::Template* t = session.templates().find(replay->tmpl);
  if (!t || replay->first > replay->last || replay->last >= t->calls.size()) return nullptr;
  for (uint32_t i = replay->first + 1; i <= replay->last; ++i)
    if (std::holds_alternative<proto::MemcpyHtoD>(t->calls[i].call) ||
        std::holds_alternative<proto::Memcpy2DHtoD>(t->calls[i].call))
      return nullptr;
  return std::get_if<proto::MemcpyHtoD>(&t->calls[replay->first].call);
}

// A session whose last batch ran longer than this runs its next on the
// executor even when alone: the transport thread must stay free to send the
// heartbeats that keep its client waiting (transport.h, reply_timeout_ms).
constexpr std::chrono::milliseconds kLongestInlineRun{20};

// What an ordinary batch needs stays allocated from one batch to the next.
void shrink(std::vector<uint8_t>& buffer) {
  constexpr size_t kKeepBytes = 16u << 20;
  if (buffer.capacity() > kKeepBytes) std::vector<uint8_t>().swap(buffer);
}

}  // namespace

SessionManager::SessionManager(std::vector<Device*> devices, SessionPolicy policy)
    : devices_(std::move(devices)),
      policy_(std::move(policy)),
      scheduler_(policy_.placement),
      metrics_(devices_.size()),
      busy_seen_(devices_.size(), 0) {
  for (size_t i = 0; i < devices_.size(); ++i)
    executors_.push_back(std::make_unique<DeviceExecutor>(fmt::format("rrto-device{}", i)));
}

std::vector<DeviceLoad> SessionManager::device_loads() const {
  std::vector<DeviceLoad> loads;
  for (size_t i = 0; i < devices_.size(); ++i) {
    const DeviceMetricValues now = metrics_.read_device(i);
    loads.push_back({.total_memory = devices_[i]->description().total_memory,
                     .memory_in_use = now.memory_bytes,
                     .sessions = now.sessions,
                     .busy_ns = now.busy_ns - busy_seen_[i]});
  }
  return loads;
}

size_t SessionManager::place() {
  const std::vector<DeviceLoad> loads = device_loads();
  for (size_t i = 0; i < loads.size(); ++i) busy_seen_[i] += loads[i].busy_ns;
  return scheduler_.place(loads, policy_.session.memory_bytes);
}

void SessionManager::account_memory(SessionWork& work) {
  if (!work.session.admitted()) return;
  const uint64_t now = work.session.memory_bytes();
  if (now == work.memory_seen) return;
  status_.memory_changed(work.session.device_index(), static_cast<int64_t>(now - work.memory_seen));
  work.memory_seen = now;
}

SessionManager::~SessionManager() { end_all("server shutdown"); }

void SessionManager::on_connect(transport::PeerId peer, const std::string& peer_address) {
  Connection& connection = connections_[peer];
  if (connection.work && !connection.closing) end_session(connection, "its peer id was reused");
  connection.work = std::make_shared<SessionWork>(next_session_id_++, peer_address, static_cast<Admission&>(*this),
                                                  policy_.auth_key);
  connection.closing = false;
  connection.opened = std::chrono::steady_clock::now();
  status_.connections(connections_.size());
  RRTO_DEBUG(kLog, "connection from {}: session {}, waiting for Hello", peer_address, connection.work->session.id());
}

void SessionManager::on_disconnect(transport::PeerId peer) {
  auto it = connections_.find(peer);
  if (it == connections_.end()) return;
  if (!it->second.closing)
    end_session(it->second, stopping_.load(std::memory_order_relaxed) ? "server shutdown" : "client disconnected");
  forget_found_connection();
  connections_.erase(it);
  status_.connections(connections_.size());
}

void SessionManager::drain_step(std::chrono::steady_clock::time_point now) {
  if (!drain_started_) {
    drain_started_ = now;
    RRTO_INFO(kLog, "draining: refusing new sessions, finishing {} batch(es) in flight, then closing {} session(s)",
              in_flight_, admitted_);
  }
  if (in_flight_ > 0 && now - *drain_started_ < kDrainLimit) return;
  std::vector<transport::PeerId> open;
  for (const auto& [peer, connection] : connections_)
    if (!connection.closing) open.push_back(peer);
  for (transport::PeerId peer : open) close(peer, connections_.at(peer), "server draining");
  RRTO_INFO(kLog, "drained: {} connection(s) closed", open.size());
  if (on_drained_) std::exchange(on_drained_, nullptr)();
}

void SessionManager::on_tick() {
  const auto now = std::chrono::steady_clock::now();
  if (draining_.load(std::memory_order_relaxed) && on_drained_) drain_step(now);
  std::vector<transport::PeerId> late;
  for (const auto& [peer, connection] : connections_)
    if (!connection.closing && !connection.work->session.admitted() && now - connection.opened > policy_.hello_timeout)
      late.push_back(peer);
  for (transport::PeerId peer : late) {
    Connection& connection = connections_.at(peer);
    RRTO_WARN(kLog, "connection from {} closed: not admitted within {} s", connection.work->session.peer_address(),
              std::chrono::duration_cast<std::chrono::seconds>(policy_.hello_timeout).count());
    close(peer, connection, "no Hello in time");
  }
}

CUresult SessionManager::refusal(const Introduction& introduction, std::string& why) const {
  if (introduction.protocol_version != proto::kProtocolVersion) {
    why = fmt::format("protocol version {} is not the server's {}", introduction.protocol_version,
                      proto::kProtocolVersion);
    return CUDA_ERROR_SYSTEM_DRIVER_MISMATCH;
  }
  if (!introduction.authenticated) {
    why = "the client did not prove it knows the server's auth key (wrong or missing key)";
    return CUDA_ERROR_NOT_PERMITTED;
  }
  if (draining_.load(std::memory_order_relaxed)) {
    why = "the server is draining (stopping)";
    return CUDA_ERROR_DEVICE_UNAVAILABLE;
  }
  if (introduction.flags & proto::kHelloProbe) return CUDA_SUCCESS;  // it asks, and takes nothing
  if (admitted_ >= policy_.max_sessions) {
    why = fmt::format("the server is full ({} sessions)", policy_.max_sessions);
    return CUDA_ERROR_DEVICE_UNAVAILABLE;
  }
  if (devices_.empty()) {
    why = "the server has no device";
    return CUDA_ERROR_NO_DEVICE;
  }
  return CUDA_SUCCESS;
}

Welcome SessionManager::load() const {
  Welcome welcome;
  welcome.devices = static_cast<uint32_t>(devices_.size());
  welcome.sessions = admitted_;
  for (const DeviceLoad& d : device_loads())
    welcome.free_memory += d.free_memory();
  return welcome;
}

uint64_t SessionManager::session_room() const {
  uint64_t device = 0;
  for (const Device* d : devices_) device = std::max(device, d->description().total_memory);
  return policy_.session.memory_bytes == 0 ? device : std::min(policy_.session.memory_bytes, device);
}

CUresult SessionManager::refuse(const Session& session, std::string_view client, CUresult code,
                               const std::string& why) {
  status_.refused(code);
  RRTO_WARN(kLog, "session {} refused: peer {}, client '{}': {}", session.id(), session.peer_address(), client, why);
  return code;
}

CUresult SessionManager::admit(Session& session, const Introduction& introduction, Welcome& welcome,
                               std::string& why) {
  const std::string client = printable(introduction.client_name, 128);
  welcome = load();
  if (CUresult r = refusal(introduction, why)) return refuse(session, client, r, why);
  if (introduction.flags & proto::kHelloProbe) return CUDA_SUCCESS;
  if (cluster_ && !(introduction.flags & (proto::kHelloRedirected | proto::kHelloResume))) {
    welcome.redirect = cluster_->better_server(welcome.devices, welcome.sessions, session_room());
    if (!welcome.redirect.empty()) {
      RRTO_INFO(kLog, "session {}: client '{}' sent to {}, which has fewer sessions per device", session.id(), client,
                welcome.redirect);
      return CUDA_SUCCESS;
    }
  }
  const size_t index = place();
  if (CUresult r = open_in_window(session, index, introduction, client, why)) return refuse(session, client, r, why);
  ++admitted_;
  ++placement_changes_;
  ++welcome.sessions;
  if (cluster_) welcome.peers = cluster_->peers();
  status_.admitted(session);
  RRTO_INFO(kLog, "session {} {}: peer {}, client '{}', device {} ({}), address window {}", session.id(),
            introduction.flags & proto::kHelloResume ? "resumed" : "started", session.peer_address(), client, index,
            devices_.at(index)->description().name, session.window());
  return CUDA_SUCCESS;
}

CUresult SessionManager::open_in_window(Session& session, size_t index, const Introduction& introduction,
                                        const std::string& client, std::string& why) {
  Device& device = *devices_.at(index);
  if (introduction.flags & proto::kHelloResume) {
    const uint64_t window = introduction.window;
    if (!is_window(window) || !windows_.hold(window)) {
      why = fmt::format("address window {} cannot be had here: {}", window,
                        is_window(window) ? "a session of this server holds it" : "no such window");
      return CUDA_ERROR_OUT_OF_MEMORY;
    }
    if (CUresult r = session.admit(device, index, window, client, policy_.session)) {
      windows_.release(window);
      why = fmt::format("address window {} cannot be had on device {}", window, index);
      return r;
    }
    return CUDA_SUCCESS;
  }
  // One the cluster claimed for this server, else one no other server said
  // it holds. A window something of this process happens to lie in is skipped.
  constexpr int kTries = 4;
  for (int attempt = 0; attempt < kTries; ++attempt) {
    uint64_t window = cluster_ ? cluster_->take_window() : 0;
    if (window == 0)
      window = windows_.choose([this](uint64_t w) { return cluster_ && cluster_->window_taken(w); });
    if (window == 0 || !windows_.hold(window)) break;
    if (session.admit(device, index, window, client, policy_.session) == CUDA_SUCCESS) return CUDA_SUCCESS;
    windows_.release(window);
  }
  why = "the device cannot take another session (no address window could be had)";
  return CUDA_ERROR_OUT_OF_MEMORY;
}

void SessionManager::end_session(Connection& connection, std::string_view reason) {
  std::shared_ptr<SessionWork> work = connection.work;
  if (!work->session.admitted()) {
    RRTO_DEBUG(kLog, "connection from {} ended before a session began: {}", work->session.peer_address(), reason);
    return;
  }
  const size_t device = work->session.device_index();
  windows_.release(work->session.window());
  status_.ended(work->session, work->memory_seen);
  work->memory_seen = 0;
  --admitted_;
  ++placement_changes_;
  // Freed on the device's thread, after the session's batch in flight.
  auto release = [work, reason = std::string(reason)] {
    const ReleasedResources freed = work->session.release();
    RRTO_INFO(kLog, "session {} ended ({}): freed {} allocations ({}), {} modules, {} functions, {} streams, {} events",
              work->session.id(), reason, freed.allocations, format_bytes(freed.bytes), freed.modules, freed.functions,
              freed.streams, freed.events);
  };
  DeviceExecutor& executor = *executors_.at(device);
  if (!work->busy && executor.idle()) {
    executor.forget(work->queue);
    release();
  } else {
    executor.submit_last(work->queue, std::move(release));
  }
}

void SessionManager::close(transport::PeerId peer, Connection& connection, std::string_view reason) {
  end_session(connection, reason);
  connection.closing = true;
  if (sink_) sink_->close_peer(peer);
}

void SessionManager::protocol_error(transport::PeerId peer, Connection& connection, std::string reason) {
  RRTO_WARN(kLog, "session {} (peer {}): malformed request: {}", connection.work->session.id(),
            connection.work->session.peer_address(), reason);
  encode_error_reply(CUDA_ERROR_INVALID_VALUE, 0, "malformed request: " + reason, error_meta_);
  status_.protocol_error(error_meta_.size());
  if (sink_) sink_->reply(peer, proto::kBatchReply, error_meta_, {});
  close(peer, connection, "protocol error: " + reason);
}

bool SessionManager::accept_message(transport::PeerId peer, uint16_t opcode, uint64_t meta_length,
                                    uint64_t bulk_length) {
  Connection* connection = find_connection(peer);
  if (!connection || connection->closing) return false;
  const bool admitted = connection->work->session.admitted();
  const uint64_t limit = admitted ? policy_.max_message_bytes : limits::kHelloMessageBytes;
  if (bulk_length <= limit && meta_length <= limit - bulk_length) return true;
  protocol_error(peer, *connection,
                 fmt::format("a message of {} bytes exceeds the limit of {} bytes{}", meta_length + bulk_length, limit,
                             admitted ? "" : " before Hello"));
  return false;
}

bool SessionManager::KeptDecode::is_for(std::span<const uint8_t> m, uint64_t length) const {
  return meta.data() == m.data() && meta.size() == m.size() && bulk_length == length;
}

Status SessionManager::take_batch(const transport::Message& message,
                                  const std::optional<KeptDecode>& kept, SessionWork& work, std::string& why) {
  std::span<const uint8_t> bulk = message.bulk;
  if (kept && kept->is_for(message.meta, bulk.size())) {
    // Decoded by bulk_destination; the bulk landed where it said (in the
    // transport's buffer only before Hello, when the batch runs at once).
    if (!ok(kept->status)) {
      why = kept->why;
      return kept->status;
    }
  } else {
    if (message.meta_buffer)
      work.meta.swap(*message.meta_buffer);  // the same bytes, now the batch's
    else
      work.meta.assign(message.meta.begin(), message.meta.end());
    if (Status s = decode_batch(work.meta, bulk.size(), work.calls, why); !ok(s)) return s;
    if (!bulk.empty() && work.session.admitted() && !compressed_bulk(work.calls)) {
      work.bulk.assign(bulk.begin(), bulk.end());  // the transport's buffer is reused
      bulk = work.bulk;
    }
  }
  if (Status s = inflate(work, bulk, bulk, why); !ok(s)) return s;
  attach_bulk(work.calls, bulk);
  work.summary = summarize(work.calls);
  return Status::Ok;
}

Status SessionManager::inflate(SessionWork& work, std::span<const uint8_t> frame, std::span<const uint8_t>& bulk,
                               std::string& why) {
  const proto::CompressedBulk* compressed = compressed_bulk(work.calls);
  if (!compressed) return Status::Ok;
  if (!work.session.admitted()) {
    why = "a compressed bulk before Hello";
    return Status::ProtocolError;
  }
  const uint64_t raw_size = compressed->raw_size;
  if (raw_size > policy_.max_message_bytes) {
    why = fmt::format("CompressedBulk: {} bytes once decompressed, more than the limit of {}", raw_size,
                      policy_.max_message_bytes);
    return Status::ProtocolError;
  }
  uint8_t* place = landing_place(work, raw_size);
  if (!ok(decompressor_.decompress(frame, {place, raw_size}))) {
    why = fmt::format("CompressedBulk: the {}-byte bulk is not one zstd frame of {} bytes", frame.size(), raw_size);
    return Status::ProtocolError;
  }
  bulk = {place, raw_size};
  return Status::Ok;
}

uint8_t* SessionManager::landing_place(SessionWork& work, uint64_t bulk_length) {
  // Before Hello everything runs at once, from the transport's buffer.
  if (!work.session.admitted()) return nullptr;
  if (const proto::MemcpyHtoD* copy = whole_bulk_copy(work.session, work.calls); copy && copy->size == bulk_length) {
    if (uint8_t* place = work.session.direct_destination(copy->dst, copy->size)) {
      RRTO_TRACE(kLog, "session {}: {} bytes land in device memory at {:#x}", work.session.id(), copy->size, copy->dst);
      return place;
    }
  }
  work.bulk.resize(bulk_length);
  return work.bulk.data();
}

void* SessionManager::bulk_destination(transport::PeerId peer, uint16_t opcode, std::span<const uint8_t> meta,
                                       uint64_t bulk_length) {
  Connection* connection = find_connection(peer);
  if (!connection) return nullptr;
  // Anything kept is of a message that never reached on_message.
  connection->kept.reset();
  if (connection->closing || opcode != proto::kBatchRequest) return nullptr;
  if (bulk_length == 0) return nullptr;
  SessionWork& work = *connection->work;
  if (work.busy) return nullptr;  // on_message refuses the message
  // Decoded once, here, from a copy the batch keeps: on_message runs these calls.
  work.meta.assign(meta.begin(), meta.end());
  std::string why;
  const Status decoded = decode_batch(work.meta, bulk_length, work.calls, why);
  connection->kept = KeptDecode{.meta = meta, .bulk_length = bulk_length, .status = decoded, .why = std::move(why)};
  if (!ok(decoded)) return nullptr;  // on_message reports it
  if (compressed_bulk(work.calls)) {
    work.compressed.resize(bulk_length);  // within accept_message's limit; decompressed by take_batch
    return work.compressed.data();
  }
  return landing_place(work, bulk_length);
}

void SessionManager::on_message(transport::PeerId peer, const transport::Message& message) {
  status_.received(message.meta.size() + message.bulk.size());
  Connection* found = find_connection(peer);
  if (!found) return;
  // What bulk_destination kept is of this message or of none.
  const std::optional<KeptDecode> kept = std::exchange(found->kept, std::nullopt);
  if (found->closing) return;
  Connection& connection = *found;

  if (message.opcode != proto::kBatchRequest)
    return protocol_error(peer, connection, fmt::format("unexpected message opcode {}", message.opcode));
  if (connection.work->busy)
    return protocol_error(peer, connection, "a request came before the reply to the one before it");
  shrink(connection.work->reply_bulk);  // the last reply has gone
  std::string why;
  if (!ok(take_batch(message, kept, *connection.work, why))) return protocol_error(peer, connection, why);
  run_batch(peer, connection, message.received_at);
}

SessionManager::Connection* SessionManager::find_connection(transport::PeerId peer) {
  if (found_connection_ && found_peer_ == peer) return found_connection_;
  auto it = connections_.find(peer);
  if (it == connections_.end()) return nullptr;
  found_peer_ = peer;
  found_connection_ = &it->second;
  return found_connection_;
}

// One session alone on the server runs on the transport thread: nobody waits
// behind it, and it saves the two thread wake-ups of a hand-off. Once another
// session sends work too, device work goes to the executors.
bool SessionManager::shares_server(const SessionWork& work, Clock::time_point now) {
  if (latest_.work != &work) {
    previous_ = latest_;
    latest_.work = &work;
  }
  latest_.at = now;
  return previous_.work && now - previous_.at < policy_.share_window;
}

uint32_t SessionManager::weight_of(const Session& session) const {
  const std::string& name = session.client_name();
  const std::string_view program = std::string_view(name).substr(0, name.rfind('['));
  for (const auto& [client, weight] : policy_.weights)
    if (program == client) return weight;
  return 1;
}

void SessionManager::run_batch(transport::PeerId peer, Connection& connection, Clock::time_point now) {
  const std::shared_ptr<SessionWork>& work = connection.work;
  const bool shared = shares_server(*work, now);
  if (!work->session.admitted()) {
    run_now(*work, now);  // its Hello: admitted now, or refused
    if (work->session.admitted()) work->queue.weight = weight_of(work->session);
    send_reply(peer, connection);
    return;
  }
  make_room(*work);
  // A batch that may run kernels, whose time only the kernel decides, never
  // runs on the transport thread, which must keep serving the others (and
  // sending heartbeats) meanwhile.
  if (in_flight_ == 0 && executors_[work->session.device_index()]->idle() && !shared &&
      work->last_run < kLongestInlineRun && !work->summary.runs_kernels) {
    run_now(*work, now);
    work->keep_reply_bytes();  // the reply may still be going out when the device runs others' calls
    send_reply(peer, connection);
    return;
  }
  work->busy = true;
  ++in_flight_;
  const size_t device = work->session.device_index();
  DeviceExecutor& executor = *executors_[device];
  executor.submit(
      work->queue,
      [this, work] {
        run_now(*work, Clock::now());
        // The reply goes out later, from the transport thread, while this
        // device may already run other sessions' calls.
        work->keep_reply_bytes();
      },
      [this, peer, work, device] { sink_->post([this, peer, work, device] { batch_done(peer, work, device); }); });
  status_.queue_depth(device, executor.queued());
}

void SessionManager::run_now(SessionWork& work, Clock::time_point started) {
  work.dispatcher.run(work.session, work.calls, work.reply);
  // Without device work nothing occupied the device: not timed.
  work.last_run = work.summary.device_work ? Clock::now() - started : Clock::duration{};
  work.counts = status_.batch_ran(work.session, work.calls, work.summary, work.reply, work.last_run);
}

void SessionManager::batch_done(transport::PeerId peer, const std::shared_ptr<SessionWork>& work, size_t device) {
  work->busy = false;
  --in_flight_;
  // Not from the session: once its connection is gone, its device's thread
  // may be releasing it.
  status_.queue_depth(device, executors_[device]->queued());
  auto it = connections_.find(peer);
  // The client may have gone meanwhile; its session was ended then.
  if (it == connections_.end() || it->second.work != work || it->second.closing) {
    status_.count(work->counts);
    return;
  }
  send_reply(peer, it->second);
}

void SessionManager::send_reply(transport::PeerId peer, Connection& connection) {
  SessionWork& work = *connection.work;
  const BatchReply& reply = work.reply;
  const transport::Segment bulk{reply.bulk.data(), reply.bulk.size()};
  const std::span<const transport::Segment> segments(&bulk, reply.bulk.empty() ? 0 : 1);
  if (sink_) {
    if (Status s = sink_->reply(peer, proto::kBatchReply, reply.meta, segments); !ok(s))
      RRTO_DEBUG(kLog, "session {}: reply not sent ({})", work.session.id(), status_name(s));
  }
  // Counted once the client has what it waits for.
  status_.count(work.counts);
  account_memory(work);
  work.shrink_buffers();
  if (reply.end_session)
    close(peer, connection, reply.end_reason);
  else
    rebalance(work);
}

void SessionManager::SessionWork::shrink_buffers() {
  shrink(meta);
  shrink(bulk);
  shrink(compressed);
}

void SessionManager::SessionWork::keep_reply_bytes() {
  if (reply.bulk.empty() || session.view()->reply_bytes_are_sessions()) return;
  reply_bulk.assign(reply.bulk.begin(), reply.bulk.end());
  reply.bulk = reply_bulk;
}

void SessionManager::rebalance(SessionWork& work) {
  if (policy_.placement != Placement::Spread || work.stays || !work.session.admitted()) return;
  if (work.placement_changes_seen == placement_changes_) return;
  work.placement_changes_seen = placement_changes_;
  const size_t from = work.session.device_index();
  size_t to = from;
  size_t sessions_from = metrics_.read_device(from).sessions, sessions_to = sessions_from;
  for (size_t i = 0; i < devices_.size(); ++i) {
    const size_t sessions = metrics_.read_device(i).sessions;
    if (sessions < sessions_to) {
      to = i;
      sessions_to = sessions;
    }
  }
  if (sessions_from < sessions_to + 2) return;
  move(work, to, fmt::format("device {} had {} sessions, device {} had {}", from, sessions_from, to, sessions_to));
}

void SessionManager::make_room(SessionWork& work) {
  if (work.stays || !work.session.admitted() || work.session.templates().size() != 0) return;
  const uint64_t needed = work.summary.allocation_bytes;
  if (needed == 0) return;
  const std::vector<DeviceLoad> loads = device_loads();
  auto free_on = [&](size_t i) { return loads[i].free_memory(); };
  const size_t from = work.session.device_index();
  if (needed <= free_on(from)) return;
  size_t to = from;
  for (size_t i = 0; i < loads.size(); ++i)
    if (free_on(i) >= needed + work.memory_seen && (to == from || free_on(i) > free_on(to))) to = i;
  if (to == from) return;  // fits nowhere: its allocation fails where it is
  move(work, to, fmt::format("it asks for {} and device {} has {} free", format_bytes(needed), from,
                             format_bytes(free_on(from))));
}

void SessionManager::move(SessionWork& work, size_t to, std::string_view reason) {
  const size_t from = work.session.device_index();
  std::string why;
  if (work.session.move_to(*devices_[to], to, why) != CUDA_SUCCESS) {
    RRTO_INFO(kLog, "session {} stays on device {} ({}): {}", work.session.id(), from, reason, why);
    work.stays = true;
    return;
  }
  // Its queue joins the other executor level with the sessions there.
  executors_[from]->forget(work.queue);
  work.queue.virtual_ns = 0;
  status_.moved(work.session, from, work.memory_seen);
  ++placement_changes_;
  const size_t templates = work.session.templates().size();
  RRTO_INFO(kLog, "session {} moved from device {} to device {} with {} template{}: {}", work.session.id(), from, to,
            templates, templates == 1 ? "" : "s", reason);
}

void SessionManager::end_all(std::string_view reason) {
  // The transport has stopped: what is on the executors finishes, and the
  // sessions are freed here, with every device idle.
  for (auto& executor : executors_) executor->wait_idle();
  for (auto& [peer, connection] : connections_) {
    connection.work->busy = false;
    if (!connection.closing) end_session(connection, reason);
  }
  forget_found_connection();
  connections_.clear();
  in_flight_ = 0;
  status_.connections(0);
}

}  // namespace rrto::server

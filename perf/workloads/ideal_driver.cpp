// The Driver of the `ideal` mode (RRTO_MODE=ideal): the non-transparent
// baseline a hand-written inference server sets, spoken directly through the
// protocol (RpcSession), no client library. Set-up calls are sent one by one.
// The first iteration is sent explicitly, one batch per sync point, and then
// registered as one template; from then on each sync point of an iteration
// is one ReplaySegment: its inputs as bulk, changed launch arguments as
// deltas, the outputs back in the reply. Nothing is searched or guessed: the
// workload is the same code in every mode, and an iteration that leaves the
// registered operators is an error, not a fallback.
#include <cstdlib>
#include <cstring>
#include <map>
#include <span>
#include <vector>

#include <fmt/format.h>

#include "common/codec.h"
#include "module_image/module_image.h"
#include "perf/perftest/rpc_session.h"
#include "perf/workloads/driver.h"
#include "transport/link.h"

namespace rrto::perf {
namespace {

constexpr uint32_t kTemplate = 1;

template <typename Handle>
uint64_t id_of(Handle h) {
  return reinterpret_cast<uint64_t>(h);
}
template <typename Handle>
Handle handle_of(uint64_t id) {
  return reinterpret_cast<Handle>(id);
}

// One operator of an iteration, as sent.
struct Op {
  enum class Kind { ToDevice, ToHost, Launch, Memset, Sync };
  Kind kind = Kind::Sync;
  uint64_t function = 0, dptr = 0, bytes = 0, stream = 0;
  unsigned grid = 1, block = 1, shared_mem = 0;
  uint8_t value = 0;
  std::vector<uint8_t> params;
  const void* src = nullptr;  // ToDevice: the host bytes
  void* dst = nullptr;        // ToHost: where the bytes land

  // Same operator up to its launch arguments (which deltas carry).
  bool same_shape(const Op& o) const {
    return kind == o.kind && function == o.function && dptr == o.dptr && bytes == o.bytes && stream == o.stream &&
           grid == o.grid && block == o.block && shared_mem == o.shared_mem && value == o.value &&
           params.size() == o.params.size();
  }

  void add_to(proto::BatchWriter& batch, uint64_t& bulk_offset) const {
    switch (kind) {
      case Kind::ToDevice:
        batch.add(proto::MemcpyHtoD{.dst = dptr, .size = bytes, .bulk_offset = bulk_offset, .stream = stream});
        bulk_offset += bytes;
        break;
      case Kind::ToHost: batch.add(proto::MemcpyDtoH{.src = dptr, .size = bytes, .stream = stream}); break;
      case Kind::Launch: {
        proto::Launch l{.function = function, .shared_mem = shared_mem, .stream = stream, .params = params};
        l.grid[0] = grid;
        l.block[0] = block;
        batch.add(l);
        break;
      }
      case Kind::Memset:
        batch.add(proto::Memset{.dst = dptr, .value = value, .element_size = 1, .count = bytes, .stream = stream});
        break;
      case Kind::Sync: batch.add(proto::StreamSynchronize{.stream = stream}); break;
    }
  }
};

class IdealDriver final : public Driver {
 public:
  bool init() override {
    const char* server = std::getenv("RRTO_SERVER");
    const char* link_spec = std::getenv("RRTO_LINK");
    const std::string address = server ? server : "";
    const size_t colon = address.rfind(':');
    char* end = nullptr;
    const unsigned long port = colon == std::string::npos ? 0 : std::strtoul(address.c_str() + colon + 1, &end, 10);
    if (colon == std::string::npos || colon == 0 || *end != '\0' || port == 0 || port > 65535) {
      init_refused_ = true;
      return fail(fmt::format("ideal mode: RRTO_SERVER must be HOST:PORT, not '{}'", address));
    }
    std::string why;
    if (!ok(transport::parse_link(link_spec ? link_spec : "", link_, why))) {
      init_refused_ = true;
      return fail(fmt::format("ideal mode: RRTO_LINK: {}", why));
    }
    std::string error;
    if (!ok(RpcSession::open(address.substr(0, colon), static_cast<uint16_t>(port), link_, session_, error,
                             "rrto-perf-workload")))
      return fail("ideal mode: " + error);
    return true;
  }

  bool load_module(const void* image, CUmodule& out) override {
    ModuleImage parsed;
    if (!ok(parse_module_image(image, SIZE_MAX, parsed))) return fail("ideal mode: the module image does not parse");
    const uint64_t id = next_id_++;
    const transport::Segment bulk{parsed.bytes.data(), parsed.bytes.size()};
    NoResult none;
    if (!call(proto::ModuleLoad{.module = id, .bulk_offset = 0, .size = parsed.bytes.size()}, none, "ModuleLoad",
              {&bulk, 1}))
      return false;
    modules_[id] = std::move(parsed);
    out = handle_of<CUmodule>(id);
    return true;
  }

  bool function(CUmodule module, const char* name, CUfunction& out) override {
    const auto m = modules_.find(id_of(module));
    const KernelInfo* kernel = m == modules_.end() ? nullptr : m->second.find(name);
    if (!kernel) return fail(fmt::format("ideal mode: no kernel {} in the module", name));
    const uint64_t id = next_id_++;
    const proto::ModuleGetFunction c{
        .module = id_of(module),
        .function = id,
        .name = name,
        .param_layout = {reinterpret_cast<const uint8_t*>(kernel->params.data()),
                         kernel->params.size() * sizeof(ParamInfo)}};
    NoResult none;
    if (!call(c, none, fmt::format("ModuleGetFunction({})", name))) return false;
    kernels_[id] = kernel;
    out = handle_of<CUfunction>(id);
    return true;
  }

  bool create_stream(CUstream& out) override {
    const uint64_t id = next_id_++;
    NoResult none;
    if (!call(proto::StreamCreate{.stream = id, .flags = CU_STREAM_NON_BLOCKING}, none, "StreamCreate")) return false;
    out = handle_of<CUstream>(id);
    return true;
  }

  // The workloads create their timer's events whether or not they time; a
  // server-side event would never be used (record_event refuses).
  bool create_event(CUevent& out) override {
    out = handle_of<CUevent>(next_id_++);
    return true;
  }

  bool alloc(CUdeviceptr& out, size_t bytes) override {
    proto::MemAllocResult result;
    if (!call(proto::MemAlloc{.size = bytes}, result, fmt::format("MemAlloc({})", bytes))) return false;
    out = result.dptr;
    return true;
  }

  bool copy_to_device(CUdeviceptr dst, const void* src, size_t bytes, CUstream stream, bool async) override {
    Op& op = next_op(Op::Kind::ToDevice);
    op.dptr = dst;
    op.bytes = bytes;
    op.stream = async ? id_of(stream) : 0;
    op.src = src;
    return recorded();
  }

  bool copy_to_host(void* dst, CUdeviceptr src, size_t bytes, CUstream stream, bool async) override {
    Op& op = next_op(Op::Kind::ToHost);
    op.dptr = src;
    op.bytes = bytes;
    op.stream = async ? id_of(stream) : 0;
    op.dst = dst;
    // A copy back may only end a segment, and its bytes are the reply.
    return recorded() && flush();
  }

  bool memset8(CUdeviceptr dst, uint8_t value, size_t bytes) override {
    Op& op = next_op(Op::Kind::Memset);
    op.dptr = dst;
    op.value = value;
    op.bytes = bytes;
    return recorded();
  }

  bool launch(CUfunction f, unsigned grid, unsigned block, unsigned shared_mem, CUstream stream, void** params,
              const std::string& what) override {
    const auto k = kernels_.find(id_of(f));
    if (k == kernels_.end()) return fail(fmt::format("ideal mode: launch of unknown function ({})", what));
    const KernelInfo& kernel = *k->second;
    if (kernel.params.empty() && kernel.param_bytes > 0)
      return fail(fmt::format("ideal mode: the image gives no parameter layout of {}", what));
    Op& op = next_op(Op::Kind::Launch);
    op.function = id_of(f);
    op.grid = grid;
    op.block = block;
    op.shared_mem = shared_mem;
    op.stream = id_of(stream);
    op.params.assign(kernel.param_bytes, 0);
    for (size_t p = 0; p < kernel.params.size(); ++p)
      std::memcpy(op.params.data() + kernel.params[p].offset, params[p], kernel.params[p].size);
    return recorded();
  }

  bool synchronize(CUstream stream) override {
    // Everything before the last copy back finished with its reply.
    if (in_iteration_ && count_ == segment_first_) return true;
    next_op(Op::Kind::Sync).stream = id_of(stream);
    return recorded() && flush();
  }

  bool record_event(CUevent, CUstream) override {
    return fail("ideal mode: kernels are not timed here (time them in async mode)");
  }
  bool elapsed_ns(CUevent, CUevent, uint64_t&) override { return record_event(nullptr, nullptr); }

  bool begin_iteration() override {
    in_iteration_ = true;
    count_ = segment_first_ = 0;
    return true;
  }

  bool end_iteration() override {
    if (!flush()) return false;
    in_iteration_ = false;
    if (count_ < template_.size()) return fail("ideal mode: the iteration ended before its registered operators");
    if (registered_ || count_ == 0) return true;
    proto::BatchWriter calls;
    uint64_t unused = 0;
    for (size_t i = 0; i < count_; ++i) ops_[i].add_to(calls, unused);
    NoResult none;
    if (!call(proto::TemplateRegister{.tmpl = kTemplate, .calls = calls.bytes()}, none, "TemplateRegister"))
      return false;
    template_.assign(ops_.begin(), ops_.begin() + static_cast<ptrdiff_t>(count_));
    registered_ = true;
    return true;
  }

  std::string stats_line() const override {
    if (!session_) return {};
    return fmt::format(
        R"({{"rrto_stats":1,"mode":"ideal","transport":"{}","link":"{}","calls":{},"remote_calls":{},"round_trips":{},"bytes_up":{},"bytes_down":{}}})",
        session_->transport_name(), link_.describe(), remote_calls_, remote_calls_, session_->round_trips(),
        session_->bytes_up(), session_->bytes_down());
  }

 private:
  template <typename Call, typename Result>
  bool call(const Call& c, Result& result, const std::string& what, std::span<const transport::Segment> bulk = {}) {
    std::string error;
    ++remote_calls_;
    if (!ok(session_->call(c, result, error, bulk))) return fail(fmt::format("ideal mode: {}: {}", what, error));
    return true;
  }

  // The slot of the next operator, reused from one iteration to the next.
  Op& next_op(Op::Kind kind) {
    if (count_ == ops_.size()) ops_.emplace_back();
    Op& op = ops_[count_++];
    op.kind = kind;
    op.function = op.dptr = op.bytes = op.stream = 0;
    op.grid = op.block = 1;
    op.shared_mem = 0;
    op.value = 0;
    op.params.clear();
    op.src = nullptr;
    op.dst = nullptr;
    return op;
  }

  // Outside an iteration an operator is sent at once; inside, it must be the
  // registered one.
  bool recorded() {
    if (!in_iteration_) return flush();
    const size_t i = count_ - 1;
    if (registered_ && (i >= template_.size() || !ops_[i].same_shape(template_[i])))
      return fail(fmt::format("ideal mode: operator {} of the iteration is not the registered one", i));
    return true;
  }

  // Sends the operators since the last sync point: explicitly before the
  // template exists, as one ReplaySegment after.
  bool flush() {
    const size_t first = in_iteration_ ? segment_first_ : 0;
    if (count_ == first) return true;
    const size_t last = count_ - 1;
    inputs_.clear();
    for (size_t i = first; i <= last; ++i)
      if (ops_[i].kind == Op::Kind::ToDevice) inputs_.push_back({ops_[i].src, ops_[i].bytes});
    std::span<uint8_t> outputs;
    if (ops_[last].kind == Op::Kind::ToHost) outputs = {static_cast<uint8_t*>(ops_[last].dst), ops_[last].bytes};

    batch_.clear();
    if (in_iteration_ && registered_) {
      deltas_.clear();
      ByteWriter w(deltas_);
      for (size_t i = first; i <= last; ++i)
        if (ops_[i].kind == Op::Kind::Launch && ops_[i].params != template_[i].params) {
          w.put<uint32_t>(static_cast<uint32_t>(i));
          w.put_blob(ops_[i].params);
        }
      batch_.add(proto::ReplaySegment{.tmpl = kTemplate,
                                      .first = static_cast<uint32_t>(first),
                                      .last = static_cast<uint32_t>(last),
                                      .input_offset = 0,
                                      .deltas = deltas_});
    } else {
      uint64_t bulk_offset = 0;
      for (size_t i = first; i <= last; ++i) ops_[i].add_to(batch_, bulk_offset);
    }
    remote_calls_ += batch_.count();
    std::string error;
    if (!ok(session_->exchange(batch_.bytes(), inputs_, outputs, error)))
      return fail(fmt::format("ideal mode: operators {}..{}: {}", first, last, error));
    if (in_iteration_)
      segment_first_ = count_;
    else
      count_ = 0;
    return true;
  }

  transport::LinkProfile link_;
  std::unique_ptr<RpcSession> session_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, ModuleImage> modules_;
  std::map<uint64_t, const KernelInfo*> kernels_;  // into modules_

  bool in_iteration_ = false;
  std::vector<Op> ops_;  // [0, count_): this iteration's (or, outside one, the unsent) operators
  size_t count_ = 0;
  size_t segment_first_ = 0;
  bool registered_ = false;
  std::vector<Op> template_;

  proto::BatchWriter batch_;
  std::vector<transport::Segment> inputs_;
  std::vector<uint8_t> deltas_;
  uint64_t remote_calls_ = 0;
};

}  // namespace

std::unique_ptr<Driver> make_ideal_driver() { return std::make_unique<IdealDriver>(); }

}  // namespace rrto::perf

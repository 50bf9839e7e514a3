// cuGetExportTable: the undocumented tables stock cudart asks the driver for.
// Each table is an array of pointers, slot 0 usually its own size in bytes.
// The slots cudart 13 was seen to call do what it depends on; every other slot
// logs once, naming its table and slot, and fails, so a gap shows instead of
// corrupting cudart's state. A table we do not know is refused and logged with
// its UUID. Nothing here needs the server.
#include <pthread.h>
#include <unistd.h>

#include <cstring>
#include <string_view>

#include "client/api/api.h"
#include "client/export_tables/context_storage.h"
#include "client/export_tables/integrity_check.h"

using namespace rrto::client;

namespace {

constexpr const char* kLog = "export-table";

enum class Table { CudartInterface, ToolsTls, CallbackHooks, ContextStorage, ContextWrapper, IntegrityCheck };

constexpr std::string_view table_name(Table t) {
  switch (t) {
    case Table::CudartInterface: return "cudart interface";
    case Table::ToolsTls: return "tools TLS";
    case Table::CallbackHooks: return "runtime callback hooks";
    case Table::ContextStorage: return "context-local storage";
    case Table::ContextWrapper: return "context wrapper";
    case Table::IntegrityCheck: return "integrity check";
  }
  return "?";
}

template <Table T, int Slot>
CUresult unknown_slot() {
  static std::once_flag once;
  std::call_once(once, [] {
    RRTO_WARN(kLog, "cudart called slot {} of the {} export table, which is not implemented", Slot, table_name(T));
  });
  return CUDA_ERROR_NOT_SUPPORTED;
}

template <typename F>
const void* slot(F* f) {
  return reinterpret_cast<const void*>(f);
}

template <size_t N>
const void* size_slot() {
  return reinterpret_cast<const void*>(N * sizeof(void*));
}

// ------------------------------------------------ cudart interface (6bd5fb6c)

// cudart's pre-library way to load its fatbins: the wrapper struct or the
// fatbin itself. The extra arguments of the extended forms are not known.
CUresult module_from_fatbin(CUmodule* out, const void* fatbin_or_wrapper) {
  if (!client().initialized()) return CUDA_ERROR_NOT_INITIALIZED;
  if (!has_current_context()) return CUDA_ERROR_INVALID_CONTEXT;
  return load_module(client(), out, fatbin_or_wrapper);
}

CUresult module_from_fatbin_ext(CUmodule* out, const void* fatbin_or_wrapper, void* arg3, void* arg4, unsigned arg5) {
  if (arg3 || arg4 || arg5) return unknown_slot<Table::CudartInterface, 6>();
  return module_from_fatbin(out, fatbin_or_wrapper);
}

CUresult module_from_fatbin_header(const void* fatbin, CUmodule* out, void* arg3, void* arg4, unsigned arg5) {
  if (arg3 || arg4 || arg5) return unknown_slot<Table::CudartInterface, 8>();
  return module_from_fatbin(out, fatbin);
}

// The primary context, without retaining it (cudart retains it itself).
CUresult cudart_primary_context(CUcontext* pctx, CUdevice dev) {
  Client& c = client();
  if (!c.initialized()) return CUDA_ERROR_NOT_INITIALIZED;
  if (!pctx) return CUDA_ERROR_INVALID_VALUE;
  if (dev != 0) return CUDA_ERROR_INVALID_DEVICE;
  auto state = c.lock();
  *pctx = reinterpret_cast<CUcontext>(primary_context(*state));
  return CUDA_SUCCESS;
}

void cudart_notice(size_t) {}

// The real driver loads its JIT compilers here; ours run on the server.
CUresult load_compilers() { return CUDA_SUCCESS; }

const void* const kCudartInterface[] = {
    size_slot<13>(),
    slot(module_from_fatbin),
    slot(cudart_primary_context),
    slot(unknown_slot<Table::CudartInterface, 3>),
    slot(unknown_slot<Table::CudartInterface, 4>),
    slot(unknown_slot<Table::CudartInterface, 5>),
    slot(module_from_fatbin_ext),
    slot(cudart_notice),
    slot(module_from_fatbin_header),
    slot(unknown_slot<Table::CudartInterface, 9>),
    slot(unknown_slot<Table::CudartInterface, 10>),
    slot(unknown_slot<Table::CudartInterface, 11>),
    slot(load_compilers),
};

// ------------------------------------------------------- tools TLS (42d85a81)

// No profiling tool is attached to this driver: nothing to set up per thread.
CUresult no_tool_state() { return CUDA_SUCCESS; }

const void* const kToolsTls[] = {
    size_slot<4>(),
    slot(unknown_slot<Table::ToolsTls, 1>),
    slot(no_tool_state),
    slot(unknown_slot<Table::ToolsTls, 3>),
};

// ------------------------------------------- runtime callback hooks (a094798c)

// cudart reads which callbacks a tool enabled from two driver-owned buffers;
// with no tool attached they stay zero. Sized generously in case the sizes
// count words rather than bytes.
struct CallbackBuffers {
  alignas(64) uint64_t first[1024];
  alignas(64) uint64_t second[14];
};
CallbackBuffers g_callback_buffers{};

void callback_buffer_first(void** buffer, size_t* size) {
  *buffer = g_callback_buffers.first;
  *size = std::size(g_callback_buffers.first);
}

void callback_buffer_second(void** buffer, size_t* size) {
  *buffer = g_callback_buffers.second;
  *size = std::size(g_callback_buffers.second);
}

// Called around runtime calls to notify a tool; there is none.
CUresult no_tool_callback() { return CUDA_SUCCESS; }

const void* const kCallbackHooks[] = {
    size_slot<7>(),
    slot(no_tool_callback),
    slot(callback_buffer_first),
    slot(unknown_slot<Table::CallbackHooks, 3>),
    slot(no_tool_callback),
    slot(unknown_slot<Table::CallbackHooks, 5>),
    slot(callback_buffer_second),
};

// ------------------------------------------- context-local storage (c693336e)

CUresult storage_context(CUcontext ctx, uint64_t& out) {
  if (ctx) {
    out = reinterpret_cast<uint64_t>(ctx);
    return CUDA_SUCCESS;
  }
  if (!has_current_context()) return CUDA_ERROR_INVALID_CONTEXT;
  out = context_stack().back();
  return CUDA_SUCCESS;
}

CUresult storage_put(CUcontext ctx, void* key, void* value, ContextStorage::Destructor destructor) {
  Client& c = client();
  uint64_t h = 0;
  if (const CUresult r = storage_context(ctx, h); r != CUDA_SUCCESS) return r;
  {
    auto state = c.lock();
    if (!state->contexts.find(h)) return CUDA_ERROR_INVALID_CONTEXT;
  }
  context_storage().put(h, key, value, destructor);
  return CUDA_SUCCESS;
}

CUresult storage_delete(CUcontext ctx, void* key) {
  uint64_t h = 0;
  if (const CUresult r = storage_context(ctx, h); r != CUDA_SUCCESS) return r;
  return context_storage().remove(h, key) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}

// Called on nearly every runtime call: no lock, no allocation.
CUresult storage_get(void** value, CUcontext ctx, void* key) {
  if (!value) return CUDA_ERROR_INVALID_VALUE;
  uint64_t h = 0;
  if (const CUresult r = storage_context(ctx, h); r != CUDA_SUCCESS) return r;
  return context_storage().get(h, key, *value) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}

// This table has no size slot.
const void* const kContextStorage[] = {
    slot(storage_put),
    slot(storage_delete),
    slot(storage_get),
    slot(unknown_slot<Table::ContextStorage, 3>),
};

// ------------------------------------------------ context wrapper (263e8860)

// cudart asks whether a context is one of the special kinds (none here).
CUresult context_kind(CUcontext, uint32_t* kind, const void**) {
  if (kind) *kind = 0;
  return CUDA_SUCCESS;
}

uint32_t context_flags() { return 0; }

const void* const kContextWrapper[] = {
    size_slot<4>(),
    slot(unknown_slot<Table::ContextWrapper, 1>),
    slot(context_kind),
    slot(context_flags),
};

// ------------------------------------------------ integrity check (d4082055)

CUresult integrity_check(uint32_t runtime_version, uint64_t unix_seconds, uint8_t (*answer)[16]);

const void* const kIntegrityCheck[] = {
    size_slot<3>(),
    slot(integrity_check),
    slot(unknown_slot<Table::IntegrityCheck, 2>),
};

CUresult integrity_check(uint32_t runtime_version, uint64_t unix_seconds, uint8_t (*answer)[16]) {
  if (!answer) return CUDA_ERROR_INVALID_VALUE;
  Client& c = client();
  // Versions ending in 0 or 1 have a fixed answer; the others hash what the
  // driver reports about its devices, which needs cuInit.
  if (runtime_version % 10 >= 2 && !c.initialized()) return CUDA_ERROR_NOT_INITIALIZED;
  IntegrityDevice device{};
  if (c.initialized()) {
    device.uuid = c.device().uuid;
    device.pci_domain = c.device().attributes[CU_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID];
    device.pci_bus = c.device().attributes[CU_DEVICE_ATTRIBUTE_PCI_BUS_ID];
    device.pci_device = c.device().attributes[CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID];
  }
  const IntegrityQuery query{
      .driver_version = CUDA_VERSION,  // what cuDriverGetVersion reports
      .runtime_version = runtime_version,
      .process_id = static_cast<uint32_t>(getpid()),
      .thread_id = static_cast<uint32_t>(pthread_self()),
      .cudart_table = kCudartInterface,
      .integrity_table = kIntegrityCheck,
      .integrity_function = kIntegrityCheck[1],
      .unix_seconds = unix_seconds,
  };
  const auto result = integrity_answer(query, {&device, c.initialized() ? 1u : 0u});
  std::memcpy(*answer, result.data(), result.size());
  return CUDA_SUCCESS;
}

// --------------------------------------------------------------- the index

struct KnownTable {
  CUuuid id;
  const void* const* table;  // nullptr: known, deliberately not offered
};

constexpr CUuuid uuid(std::initializer_list<uint8_t> bytes) {
  CUuuid u{};
  int i = 0;
  for (uint8_t b : bytes) u.bytes[i++] = static_cast<char>(b);
  return u;
}

const KnownTable kTables[] = {
    {uuid({0x6b, 0xd5, 0xfb, 0x6c, 0x5b, 0xf4, 0xe7, 0x4a, 0x89, 0x87, 0xd9, 0x39, 0x12, 0xfd, 0x9d, 0xf9}),
     kCudartInterface},
    {uuid({0x42, 0xd8, 0x5a, 0x81, 0x23, 0xf6, 0xcb, 0x47, 0x82, 0x98, 0xf6, 0xe7, 0x8a, 0x3a, 0xec, 0xdc}), kToolsTls},
    {uuid({0xa0, 0x94, 0x79, 0x8c, 0x2e, 0x74, 0x2e, 0x74, 0x93, 0xf2, 0x08, 0x00, 0x20, 0x0c, 0x0a, 0x66}),
     kCallbackHooks},
    {uuid({0xc6, 0x93, 0x33, 0x6e, 0x11, 0x21, 0xdf, 0x11, 0xa8, 0xc3, 0x68, 0xf3, 0x55, 0xd8, 0x95, 0x93}),
     kContextStorage},
    {uuid({0x26, 0x3e, 0x88, 0x60, 0x7c, 0xd2, 0x61, 0x43, 0x92, 0xf6, 0xbb, 0xd5, 0x00, 0x6d, 0xfa, 0x7e}),
     kContextWrapper},
    {uuid({0xd4, 0x08, 0x20, 0x55, 0xbd, 0xe6, 0x70, 0x4b, 0x8d, 0x34, 0xba, 0x12, 0x3c, 0x66, 0xe1, 0xf2}),
     kIntegrityCheck},
    // New in CUDA 13, purpose unknown; cudart 13 runs the same without it.
    {uuid({0xf8, 0xcf, 0xf9, 0x51, 0x21, 0x46, 0x8b, 0x4e, 0xb9, 0xe2, 0xfb, 0x46, 0x9e, 0x7c, 0x0d, 0xd9}), nullptr},
};

std::string uuid_hex(const CUuuid& id) {
  std::string s;
  for (const char b : id.bytes) s += fmt::format("{:02x}", static_cast<uint8_t>(b));
  return s;
}

}  // namespace

CUresult api::cuGetExportTable(const void** table, const CUuuid* id) {
  if (!table || !id) return CUDA_ERROR_INVALID_VALUE;
  for (const KnownTable& known : kTables) {
    if (std::memcmp(known.id.bytes, id->bytes, sizeof id->bytes) != 0) continue;
    if (!known.table) {
      RRTO_DEBUG(kLog, "export table {} is not offered", uuid_hex(*id));
      return CUDA_ERROR_INVALID_VALUE;
    }
    *table = known.table;
    return CUDA_SUCCESS;
  }
  RRTO_WARN(kLog, "cuGetExportTable: unknown export table {}", uuid_hex(*id));
  return CUDA_ERROR_INVALID_VALUE;
}

// Contexts live in the client: every context maps to the session's one
// device on the server, so creating, switching and destroying them costs
// no round trip.
#include "client/api/api.h"
#include "client/export_tables/context_storage.h"

using namespace rrto::client;

namespace {

CUcontext to_handle(uint64_t h) { return reinterpret_cast<CUcontext>(h); }

CUresult create_context(Client& c, CUcontext* pctx, unsigned flags, CUdevice dev) {
  if (!pctx) return CUDA_ERROR_INVALID_VALUE;
  if (dev != 0) return CUDA_ERROR_INVALID_DEVICE;
  auto state = c.lock();
  auto ctx = std::make_unique<Context>();
  ctx->device = dev;
  ctx->flags = flags;
  const uint64_t h = state->contexts.insert(std::move(ctx));
  context_stack().push_back(h);  // a new context becomes current
  *pctx = to_handle(h);
  return CUDA_SUCCESS;
}

// The context a call names: `ctx`, or the current one when it is null.
CUresult named_context(Client& c, CUcontext ctx, uint64_t& out) {
  if (!ctx) {
    if (!has_current_context()) return CUDA_ERROR_INVALID_CONTEXT;
    out = context_stack().back();
    return CUDA_SUCCESS;
  }
  auto state = c.lock();
  if (!state->contexts.find(ctx)) return CUDA_ERROR_INVALID_CONTEXT;
  out = reinterpret_cast<uint64_t>(ctx);
  return CUDA_SUCCESS;
}

}  // namespace

uint64_t rrto::client::primary_context(ClientState& state) {
  if (!state.primary_context) {
    auto ctx = std::make_unique<Context>();
    ctx->primary = true;
    ctx->flags = state.primary_flags;
    state.primary_context = state.contexts.insert(std::move(ctx));
  }
  return state.primary_context;
}

CUresult api::cuDevicePrimaryCtxRetain(Client& c, CUcontext* pctx, CUdevice dev) {
  if (!pctx) return CUDA_ERROR_INVALID_VALUE;
  if (dev != 0) return CUDA_ERROR_INVALID_DEVICE;
  auto state = c.lock();
  ++state->primary_refcount;
  *pctx = to_handle(primary_context(*state));
  return CUDA_SUCCESS;
}

CUresult api::cuDevicePrimaryCtxRelease_v2(Client& c, CUdevice dev) {
  if (dev != 0) return CUDA_ERROR_INVALID_DEVICE;
  auto state = c.lock();
  if (state->primary_refcount == 0) return CUDA_ERROR_INVALID_CONTEXT;
  --state->primary_refcount;  // the context stays: its resources live on the server until exit
  return CUDA_SUCCESS;
}

// The pre-11.0 names take the same arguments and do the same; cudart 13
// still asks for them (cuGetProcAddress at version 7000) and calls them.
CUresult api::cuDevicePrimaryCtxRelease(Client& c, CUdevice dev) { return cuDevicePrimaryCtxRelease_v2(c, dev); }

CUresult api::cuDevicePrimaryCtxSetFlags_v2(Client& c, CUdevice dev, unsigned int flags) {
  if (dev != 0) return CUDA_ERROR_INVALID_DEVICE;
  auto state = c.lock();
  state->primary_flags = flags;
  if (Context* ctx = state->contexts.find(state->primary_context)) ctx->flags = flags;
  return CUDA_SUCCESS;
}

CUresult api::cuDevicePrimaryCtxGetState(Client& c, CUdevice dev, unsigned int* flags, int* active) {
  if (!flags || !active) return CUDA_ERROR_INVALID_VALUE;
  if (dev != 0) return CUDA_ERROR_INVALID_DEVICE;
  auto state = c.lock();
  *flags = state->primary_flags;
  *active = state->primary_refcount > 0;
  return CUDA_SUCCESS;
}

CUresult api::cuDevicePrimaryCtxReset_v2(Client& c, CUdevice dev) {
  if (dev != 0) return CUDA_ERROR_INVALID_DEVICE;
  uint64_t primary = 0;
  {
    auto state = c.lock();
    state->primary_refcount = 0;
    primary = state->primary_context;
  }
  if (primary) context_storage().destroy(primary);  // the reset context's state is gone
  return CUDA_SUCCESS;
}

CUresult api::cuDevicePrimaryCtxReset(Client& c, CUdevice dev) { return cuDevicePrimaryCtxReset_v2(c, dev); }

CUresult api::cuCtxCreate_v2(Client& c, CUcontext* pctx, unsigned int flags, CUdevice dev) {
  return create_context(c, pctx, flags, dev);
}

CUresult api::cuCtxCreate_v3(Client& c, CUcontext* pctx, CUexecAffinityParam* params, int num_params,
                             unsigned int flags, CUdevice dev) {
  if (num_params > 0) RRTO_NOT_SUPPORTED(cuCtxCreate_v3, "execution affinity");
  return create_context(c, pctx, flags, dev);
}

CUresult api::cuCtxCreate_v4(Client& c, CUcontext* pctx, CUctxCreateParams* params, unsigned int flags, CUdevice dev) {
  if (params && (params->numExecAffinityParams > 0 || params->cigParams))
    RRTO_NOT_SUPPORTED(cuCtxCreate_v4, "execution affinity and CIG parameters");
  return create_context(c, pctx, flags, dev);
}

CUresult api::cuCtxDestroy_v2(Client& c, CUcontext ctx) {
  const auto h = reinterpret_cast<uint64_t>(ctx);
  {
    auto state = c.lock();
    Context* context = state->contexts.find(h);
    if (!context || context->primary) return CUDA_ERROR_INVALID_CONTEXT;
    auto& stack = context_stack();
    std::erase(stack, h);
    state->contexts.remove(h);
  }
  context_storage().destroy(h);
  return CUDA_SUCCESS;
}

CUresult api::cuCtxGetCurrent(Client& c, CUcontext* pctx) {
  if (!pctx) return CUDA_ERROR_INVALID_VALUE;
  const auto& stack = context_stack();
  *pctx = stack.empty() ? nullptr : to_handle(stack.back());
  return CUDA_SUCCESS;
}

CUresult api::cuCtxSetCurrent(Client& c, CUcontext ctx) {
  auto& stack = context_stack();
  if (!ctx) {
    if (!stack.empty()) stack.pop_back();
    return CUDA_SUCCESS;
  }
  {
    auto state = c.lock();
    if (!state->contexts.find(ctx)) return CUDA_ERROR_INVALID_CONTEXT;
  }
  if (stack.empty())
    stack.push_back(reinterpret_cast<uint64_t>(ctx));
  else
    stack.back() = reinterpret_cast<uint64_t>(ctx);
  return CUDA_SUCCESS;
}

CUresult api::cuCtxPushCurrent_v2(Client& c, CUcontext ctx) {
  {
    auto state = c.lock();
    if (!state->contexts.find(ctx)) return CUDA_ERROR_INVALID_CONTEXT;
  }
  context_stack().push_back(reinterpret_cast<uint64_t>(ctx));
  return CUDA_SUCCESS;
}

CUresult api::cuCtxPopCurrent_v2(Client& c, CUcontext* pctx) {
  auto& stack = context_stack();
  if (stack.empty()) return CUDA_ERROR_INVALID_CONTEXT;
  if (pctx) *pctx = to_handle(stack.back());
  stack.pop_back();
  return CUDA_SUCCESS;
}

CUresult api::cuCtxGetDevice(Client& c, CUdevice* device) {
  if (!device) return CUDA_ERROR_INVALID_VALUE;
  if (!has_current_context()) return CUDA_ERROR_INVALID_CONTEXT;
  *device = 0;
  return CUDA_SUCCESS;
}

CUresult api::cuCtxGetFlags(Client& c, unsigned int* flags) {
  if (!flags) return CUDA_ERROR_INVALID_VALUE;
  if (!has_current_context()) return CUDA_ERROR_INVALID_CONTEXT;
  auto state = c.lock();
  const Context* ctx = state->contexts.find(context_stack().back());
  *flags = ctx ? ctx->flags : 0;
  return CUDA_SUCCESS;
}

CUresult api::cuCtxGetApiVersion(Client& c, CUcontext ctx, unsigned int* version) {
  if (!version) return CUDA_ERROR_INVALID_VALUE;
  *version = 3020;  // what the real driver reports for contexts of the v2 API
  return CUDA_SUCCESS;
}

CUresult api::cuCtxSynchronize(Client& c) {
  if (!has_current_context()) return CUDA_ERROR_INVALID_CONTEXT;
  auto state = c.lock();
  return synchronize_context(*state);
}

// Every context is the session's one device: synchronising any of them
// waits for all the session's work.
CUresult api::cuCtxSynchronize_v2(Client& c, CUcontext ctx) {
  uint64_t h = 0;
  if (const CUresult r = named_context(c, ctx, h); r != CUDA_SUCCESS) return r;
  auto state = c.lock();
  return synchronize_context(*state);
}

CUresult api::cuCtxGetDevice_v2(Client& c, CUdevice* device, CUcontext ctx) {
  if (!device) return CUDA_ERROR_INVALID_VALUE;
  uint64_t h = 0;
  if (const CUresult r = named_context(c, ctx, h); r != CUDA_SUCCESS) return r;
  *device = 0;
  return CUDA_SUCCESS;
}

// Context handles are never reused, so they serve as ids.
CUresult api::cuCtxGetId(Client& c, CUcontext ctx, unsigned long long* id) {
  if (!id) return CUDA_ERROR_INVALID_VALUE;
  uint64_t h = 0;
  if (const CUresult r = named_context(c, ctx, h); r != CUDA_SUCCESS) return r;
  *id = h;
  return CUDA_SUCCESS;
}

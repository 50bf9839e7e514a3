#include "protocol/batch.h"

namespace rrto::proto {

const char* call_op_name(CallOp op) {
  switch (op) {
#define RRTO_CALL_NAME(name) \
  case CallOp::name: return #name;
    RRTO_CALL_NAME(Hello)
    RRTO_CALL_NAME(MemAlloc)
    RRTO_CALL_NAME(MemFree)
    RRTO_CALL_NAME(MemGetInfo)
    RRTO_CALL_NAME(MemcpyHtoD)
    RRTO_CALL_NAME(MemcpyDtoH)
    RRTO_CALL_NAME(MemcpyDtoD)
    RRTO_CALL_NAME(Memset)
    RRTO_CALL_NAME(ModuleLoad)
    RRTO_CALL_NAME(ModuleUnload)
    RRTO_CALL_NAME(ModuleGetFunction)
    RRTO_CALL_NAME(ModuleGetGlobal)
    RRTO_CALL_NAME(FuncGetAttribute)
    RRTO_CALL_NAME(Launch)
    RRTO_CALL_NAME(StreamCreate)
    RRTO_CALL_NAME(StreamDestroy)
    RRTO_CALL_NAME(StreamSynchronize)
    RRTO_CALL_NAME(StreamQuery)
    RRTO_CALL_NAME(StreamWaitEvent)
    RRTO_CALL_NAME(EventCreate)
    RRTO_CALL_NAME(EventDestroy)
    RRTO_CALL_NAME(EventRecord)
    RRTO_CALL_NAME(EventSynchronize)
    RRTO_CALL_NAME(EventQuery)
    RRTO_CALL_NAME(EventElapsedTime)
    RRTO_CALL_NAME(CtxSynchronize)
    RRTO_CALL_NAME(TemplateRegister)
    RRTO_CALL_NAME(TemplateDrop)
    RRTO_CALL_NAME(ReplaySegment)
#undef RRTO_CALL_NAME
    case CallOp::Count_: break;
  }
  return "unknown";
}

}  // namespace rrto::proto

#include "client/cuda_errors.h"

namespace rrto::client {

namespace {

struct ErrorText {
  int code;
  const char* name;
  const char* text;
};
constexpr ErrorText kErrors[] = {
#include "client/generated/cuda_errors.inc"
};

const ErrorText* find_error(CUresult r) {
  for (const auto& e : kErrors)
    if (e.code == static_cast<int>(r)) return &e;
  return nullptr;
}

}  // namespace

const char* cuda_error_name(CUresult r) {
  const ErrorText* e = find_error(r);
  return e ? e->name : nullptr;
}

const char* cuda_error_text(CUresult r) {
  const ErrorText* e = find_error(r);
  return e ? e->text : nullptr;
}

}  // namespace rrto::client

/* A host-kernel library built for another ABI version. */
#include <rrto/host_kernel_abi.h>

static const rrto_host_kernel_table table = {999u, sizeof(rrto_host_kernel_entry), 0u, 0u, 0, 0};

__attribute__((visibility("default"))) const rrto_host_kernel_table* rrto_host_kernels(void) { return &table; }

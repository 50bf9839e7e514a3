/* A host-kernel library whose table describes overlapping parameters. */
#include <rrto/host_kernel_abi.h>

__attribute__((visibility("default"))) void bad_kernel(void) {}

static int32_t launch(const rrto_host_launch_config* config, void* const* args) {
  (void)config;
  (void)args;
  return RRTO_HOST_KERNEL_SUCCESS;
}

static const rrto_host_kernel_param params[2] = {{0, 8, 0, 0}, {4, 4, 0, 0}};
static rrto_host_kernel_entry entries[1];
static rrto_host_kernel_table table;

__attribute__((visibility("default"))) const rrto_host_kernel_table* rrto_host_kernels(void) {
  entries[0].function = (const void*)&bad_kernel;
  entries[0].launch = launch;
  entries[0].source_name = "bad_kernel";
  entries[0].param_count = 2;
  entries[0].param_buffer_size = 8;
  entries[0].params = params;
  table.abi_version = RRTO_HOST_KERNEL_ABI_VERSION;
  table.entry_size = sizeof(rrto_host_kernel_entry);
  table.count = 1;
  table.entries = entries;
  return &table;
}

/* A shared library that is not a host-kernel library: no rrto_host_kernels(). */
__attribute__((visibility("default"))) int rrto_test_not_a_kernel_library(void) { return 42; }

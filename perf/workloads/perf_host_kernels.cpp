// The workload kernels compiled as plain C++ for librrto_perf_kernels.so.
#include "perf_kernels.cu"

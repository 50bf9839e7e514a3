// The param_probe kernel compiled as plain C++ for librrto_example_kernels.so.
#include "param_probe_kernels.cu"

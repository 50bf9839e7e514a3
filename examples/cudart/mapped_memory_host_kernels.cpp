// mapped_memory's kernels compiled as plain C++ for librrto_cudart_example_kernels.so.
#include "mapped_memory_kernels.cu"

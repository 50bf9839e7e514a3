// virtual_memory's kernels compiled as plain C++ for librrto_cudart_example_kernels.so.
#include "virtual_memory_kernels.cu"

// The graph example's kernels compiled as plain C++ for librrto_cudart_example_kernels.so.
#include "graph_kernels.cu"

// host_functions' and pitched_2d's kernels compiled as plain C++ for
// librrto_cudart_example_kernels.so.
#include "stream_order_kernels.cu"

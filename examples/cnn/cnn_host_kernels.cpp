// The CNN kernels compiled as plain C++ for librrto_example_kernels.so.
#include "cnn_kernels.cu"

// test_kernels.cu compiled as plain C++ into librrto_test_kernels.so.
#include "test_kernels.cu"

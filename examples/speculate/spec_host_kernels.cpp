// spec_diverge's kernels compiled as plain C++ for librrto_example_kernels.so.
#include "spec_kernels.cu"

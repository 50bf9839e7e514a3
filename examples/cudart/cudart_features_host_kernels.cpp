// cudart_features' kernels compiled as plain C++ for librrto_example_kernels.so.
#include "cudart_features_kernels.cu"

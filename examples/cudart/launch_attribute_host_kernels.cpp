// launch_attributes' kernels compiled as plain C++ for
// librrto_cudart_example_kernels.so.
#include "launch_attribute_kernels.cu"

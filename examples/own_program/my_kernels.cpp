// The host-kernel library: the same kernels as plain C++, each registered so
// that rrto-server's host backend can find and launch it.
#include "my_kernels.cuh"

RRTO_HOST_KERNEL(physics::affine);
RRTO_HOST_KERNEL(add<float>);
RRTO_HOST_KERNEL(add<int>);
RRTO_HOST_KERNEL(square);

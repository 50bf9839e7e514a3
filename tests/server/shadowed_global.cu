// A module whose variable has the name of one the tests' host-kernel library
// registers (server_test_counter, initially 7 there), and one of its own.
__device__ int server_test_counter = 5;
__device__ int only_in_image = 3;

__global__ void bump() { server_test_counter += only_in_image; }

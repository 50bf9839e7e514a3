// Where rrto-perftest finds its companions: the build tree it runs from (bin/
// and lib/ side by side) or the installed layout (packaging/).
#pragma once

#include <string>

namespace rrto::perf {

std::string bin_dir();  // the directory of this executable

std::string rrto_server_program();    // bin/rrto-server
std::string workload_program();       // bin/rrto-perf-workload
std::string client_library_dir();     // holding RRTO's libcuda.so.1: lib/, installed lib/rrto/
std::string host_kernel_dir();        // the perf and example kernels: lib/, installed lib/rrto/host-kernels/

}  // namespace rrto::perf

// Where rrto-perftest finds its companions: the build (or install) tree it
// runs from, bin/ and lib/ side by side.
#pragma once

#include <string>

namespace rrto::perf {

std::string bin_dir();  // the directory of this executable
std::string lib_dir();  // bin/../lib

std::string rrto_server_program();    // bin/rrto-server
std::string workload_program();       // bin/rrto-perf-workload
std::string client_library_dir();     // lib/, holding RRTO's libcuda.so.1

}  // namespace rrto::perf

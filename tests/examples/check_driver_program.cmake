# cmake -DPROGRAM=bin/cnn_driver -DSTUB=.../stubs/libcuda.so -DWORK_DIR=dir -P check_driver_program.cmake
# 1. The program needs libcuda.so.1 and carries no RPATH/RUNPATH.
# 2. Run against the toolkit's stub driver (as libcuda.so.1 on LD_LIBRARY_PATH)
#    it fails cleanly: exit status 2 and the failing call named.
find_program(READELF readelf REQUIRED)
execute_process(COMMAND ${READELF} -d ${PROGRAM} OUTPUT_VARIABLE dynamic RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "readelf failed on ${PROGRAM}")
endif()
if(NOT dynamic MATCHES "\\(NEEDED\\)[^\n]*\\[libcuda\\.so\\.1\\]")
  message(FATAL_ERROR "${PROGRAM} does not need libcuda.so.1:\n${dynamic}")
endif()
if(dynamic MATCHES "\\((RPATH|RUNPATH)\\)")
  message(FATAL_ERROR "${PROGRAM} has an RPATH/RUNPATH:\n${dynamic}")
endif()

file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
file(CREATE_LINK ${STUB} ${WORK_DIR}/libcuda.so.1 SYMBOLIC)
execute_process(COMMAND ${CMAKE_COMMAND} -E env LD_LIBRARY_PATH=${WORK_DIR} ${PROGRAM}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 60)
if(NOT rc EQUAL 2)
  message(FATAL_ERROR "${PROGRAM} with the stub driver: exit status ${rc}, expected 2\n${out}\n${err}")
endif()
if(NOT err MATCHES "cuInit\\(0\\) failed")
  message(FATAL_ERROR "${PROGRAM} with the stub driver did not name the failing call:\n${err}")
endif()
message(STATUS "${PROGRAM}: links libcuda.so.1 without RPATH; with the stub driver: ${err}")

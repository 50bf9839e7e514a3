# RRTO_SANITIZE: sanitizers for the whole build, as -fsanitize= takes them
# (scripts/test builds build-asan with address,undefined). Every finding stops
# the program (-fno-sanitize-recover), so a test that hits one fails. nvcc
# does not take these flags: device code and the host code it compiles are
# left as they are.
set(RRTO_SANITIZE "" CACHE STRING "sanitizers to build with, e.g. address,undefined (empty: none)")
if(RRTO_SANITIZE)
  message(STATUS "RRTO_SANITIZE: -fsanitize=${RRTO_SANITIZE}")
  add_compile_options(
    "$<$<COMPILE_LANGUAGE:C,CXX>:-fsanitize=${RRTO_SANITIZE};-fno-sanitize-recover=all;-fno-omit-frame-pointer>")
  add_link_options("$<$<LINK_LANGUAGE:C,CXX>:-fsanitize=${RRTO_SANITIZE}>")
  # ctest reads this before running tests (from the top build folder): the
  # sanitizers' options for every test, unless the environment sets its own.
  file(CONFIGURE OUTPUT ${CMAKE_BINARY_DIR}/sanitizer_options.cmake @ONLY CONTENT [[
if(NOT DEFINED ENV{LSAN_OPTIONS})
  set(ENV{LSAN_OPTIONS} "suppressions=@PROJECT_SOURCE_DIR@/cmake/lsan_suppressions.txt:print_suppressions=0")
endif()
if(NOT DEFINED ENV{UBSAN_OPTIONS})
  set(ENV{UBSAN_OPTIONS} "print_stacktrace=1")
endif()
]])
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${CMAKE_BINARY_DIR}/sanitizer_options.cmake)
  # Programs built without ASan that load our libcuda.so.1 (the nvcc-built
  # cudart programs) need the ASan runtime first in their library list: the
  # e2e tests preload this one into them (tests/e2e/harness.py).
  if(RRTO_SANITIZE MATCHES "address")
    execute_process(COMMAND ${CMAKE_CXX_COMPILER} -print-file-name=libasan.so
                    OUTPUT_VARIABLE RRTO_ASAN_RUNTIME OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(NOT IS_ABSOLUTE "${RRTO_ASAN_RUNTIME}")  # a compiler whose runtime is named otherwise (clang)
      unset(RRTO_ASAN_RUNTIME)
    endif()
  endif()
endif()

# RRTO_FUZZ: the libFuzzer targets of fuzz/ (clang only, e.g. clang-14 with
# libclang-rt-14-dev). Everything is built with libFuzzer's coverage
# instrumentation so that the fuzzer sees the code under test.
option(RRTO_FUZZ "build the libFuzzer targets of fuzz/ (needs clang)" OFF)
if(RRTO_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "RRTO_FUZZ needs clang (-DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_C_COMPILER=clang-14)")
  endif()
  add_compile_options("$<$<COMPILE_LANGUAGE:C,CXX>:-fsanitize=fuzzer-no-link>")
endif()

# cmake -P: configures SOURCE_DIR in BINARY_DIR (emptied first) with
# RRTO_COMPONENTS=COMPONENTS, builds it, runs its tests, and checks that the
# files in EXPECT_BUILT are there and those in EXPECT_ABSENT are not.
foreach(required SOURCE_DIR BINARY_DIR COMPONENTS GENERATOR CXX_COMPILER C_COMPILER CUDA_ROOT)
  if(NOT DEFINED ${required})
    message(FATAL_ERROR "build_subset.cmake: ${required} is not set")
  endif()
endforeach()

function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "${what} failed (${result}):\n${output}")
  endif()
  message(STATUS "${what}: ok")
endfunction()

file(REMOVE_RECURSE ${BINARY_DIR})
set(launcher)
if(COMPILER_LAUNCHER)
  set(launcher -DCMAKE_CXX_COMPILER_LAUNCHER=${COMPILER_LAUNCHER} -DCMAKE_C_COMPILER_LAUNCHER=${COMPILER_LAUNCHER})
endif()
# Release: no debug info, so that repeated runs hit the compiler cache.
run("configure RRTO_COMPONENTS=${COMPONENTS}"
  ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${BINARY_DIR} -G ${GENERATOR} -DCMAKE_BUILD_TYPE=Release
  -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCMAKE_C_COMPILER=${C_COMPILER} -DCUDAToolkit_ROOT=${CUDA_ROOT} ${launcher}
  "-DRRTO_COMPONENTS=${COMPONENTS}")
run("build" ${CMAKE_COMMAND} --build ${BINARY_DIR} -j 2)
# Not this test again, in the subset's own tree.
run("ctest" ${CMAKE_CTEST_COMMAND} --test-dir ${BINARY_DIR} --output-on-failure -j 2 -LE components)

foreach(file IN LISTS EXPECT_BUILT)
  if(NOT EXISTS ${BINARY_DIR}/${file})
    message(FATAL_ERROR "RRTO_COMPONENTS=${COMPONENTS} did not build ${file}")
  endif()
endforeach()
foreach(file IN LISTS EXPECT_ABSENT)
  if(EXISTS ${BINARY_DIR}/${file})
    message(FATAL_ERROR "RRTO_COMPONENTS=${COMPONENTS} built ${file}, which it does not need")
  endif()
endforeach()

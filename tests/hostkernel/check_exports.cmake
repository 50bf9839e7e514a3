# cmake -DLIBRARY=lib.so -DEXPECTED="sym1;sym2;..." -P check_exports.cmake
# Fails unless the library's defined dynamic symbols are exactly EXPECTED.
# ASan's indicators of exported globals (__odr_asan.<name>, in an
# RRTO_SANITIZE build) come with those globals and are not counted.
find_program(NM nm REQUIRED)
execute_process(COMMAND ${NM} -D --defined-only --format=posix ${LIBRARY}
  OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "nm failed on ${LIBRARY}")
endif()
string(REPLACE "\n" ";" lines "${out}")
set(symbols)
foreach(line IN LISTS lines)
  if(line MATCHES "^__odr_asan\\.")
    continue()
  endif()
  if(line MATCHES "^([^ ]+) ")
    list(APPEND symbols ${CMAKE_MATCH_1})
  endif()
endforeach()
list(SORT symbols)
set(expected ${EXPECTED})
list(SORT expected)
if(NOT symbols STREQUAL expected)
  message(FATAL_ERROR "${LIBRARY} exports\n  ${symbols}\nexpected\n  ${expected}")
endif()
list(LENGTH symbols count)
message(STATUS "${LIBRARY}: exports exactly the ${count} expected symbols")

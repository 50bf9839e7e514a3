# The folders RRTO_COMPONENTS may name, in build order, and the folders each
# one needs (besides common/ and include/, which are always built). A listed
# folder brings the folders it needs, and theirs.

# module_image/ is a folder of its own once it has moved out of client/.
set(rrto_module_image "")
if(EXISTS ${PROJECT_SOURCE_DIR}/module_image/CMakeLists.txt)
  set(rrto_module_image module_image)
endif()

set(rrto_all_components
  transport protocol config recorder matcher tracegen ${rrto_module_image} client server examples perf tools)
set(rrto_component_needs_matcher recorder)
set(rrto_component_needs_tracegen recorder)
set(rrto_component_needs_client protocol transport config recorder matcher ${rrto_module_image})
set(rrto_component_needs_server protocol transport config ${rrto_module_image})
# rrto-perftest runs the server, the client library and the examples' CNN.
set(rrto_component_needs_perf
  protocol transport config matcher tracegen ${rrto_module_image} client server examples)
set(rrto_component_needs_tools recorder matcher tracegen)

# rrto_resolve_components(<out> <listed>...): the listed folders and all they
# need, in build order; all of them when none is listed.
function(rrto_resolve_components out)
  set(wanted ${ARGN})
  if(NOT wanted)
    set(wanted ${rrto_all_components})
  endif()
  set(i 0)
  list(LENGTH wanted count)
  while(i LESS count)
    list(GET wanted ${i} component)
    if(NOT component IN_LIST rrto_all_components)
      message(FATAL_ERROR "RRTO_COMPONENTS: unknown folder '${component}' (known: ${rrto_all_components})")
    endif()
    foreach(needed IN LISTS rrto_component_needs_${component})
      if(NOT needed IN_LIST wanted)
        list(APPEND wanted ${needed})
      endif()
    endforeach()
    math(EXPR i "${i} + 1")
    list(LENGTH wanted count)
  endwhile()
  set(ordered)
  foreach(component IN LISTS rrto_all_components)
    if(component IN_LIST wanted)
      list(APPEND ordered ${component})
    endif()
  endforeach()
  set(${out} ${ordered} PARENT_SCOPE)
endfunction()

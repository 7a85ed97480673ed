# sb_add_plugin(<name> SOURCES ... [LIBS ...])
#
# Builds plugin <name> as a loadable module `<name>.so` in
# ${SB_PLUGIN_BUILD_DIR}, with only the ABI headers on its include path.
# Hidden visibility plus a version script export exactly one symbol, the
# entry point: nothing else a plugin links (libstdc++ template instances,
# static libraries) can clash with the host or another plugin.
set(SB_PLUGIN_VERSION_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/sb_plugin.map)
function(sb_add_plugin name)
  cmake_parse_arguments(P "" "" "SOURCES;LIBS" ${ARGN})
  set(target sb_plugin_${name})
  string(REPLACE "-" "_" target ${target})
  add_library(${target} MODULE ${P_SOURCES})
  set_target_properties(${target} PROPERTIES
    OUTPUT_NAME ${name}
    PREFIX ""
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LIBRARY_OUTPUT_DIRECTORY ${SB_PLUGIN_BUILD_DIR})
  target_link_libraries(${target} PRIVATE sb_abi ${P_LIBS})
  target_link_options(${target} PRIVATE -Wl,--no-undefined
    -Wl,--version-script=${SB_PLUGIN_VERSION_SCRIPT})
  set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS
    ${SB_PLUGIN_VERSION_SCRIPT})
  install(TARGETS ${target} LIBRARY DESTINATION ${SB_PLUGIN_INSTALL_DIR})
  # Make every plugin a dependency of the tests and the daemon's build.
  set_property(GLOBAL APPEND PROPERTY SB_ALL_PLUGINS ${target})
endfunction()

# Adds every immediate subdirectory of the current source dir that has a
# CMakeLists.txt, in sorted order.
function(sb_add_subdirectories)
  file(GLOB children RELATIVE ${CMAKE_CURRENT_SOURCE_DIR}
       ${CMAKE_CURRENT_SOURCE_DIR}/*/CMakeLists.txt)
  list(SORT children)
  foreach(child ${children})
    get_filename_component(dir ${child} DIRECTORY)
    add_subdirectory(${dir})
  endforeach()
endfunction()

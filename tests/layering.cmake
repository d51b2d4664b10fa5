# The layering check (DESIGN §2, cmake/layers.cmake) over the source tree,
# and over a small fixture with one upward include, which it must refuse
# (a check that cannot fail checks nothing).
add_test(NAME layering COMMAND ${CMAKE_COMMAND} -DSRC=${CMAKE_SOURCE_DIR} -P
                               ${CMAKE_SOURCE_DIR}/cmake/layers.cmake)
set(_fx "${CMAKE_BINARY_DIR}/layering-fixture")
file(WRITE "${_fx}/base/ok.c" "#include \"base/base.h\"\n")
file(WRITE "${_fx}/sim/ok.c" "#include \"base/base.h\"\n#include \"sim/prog.h\"\n")
file(WRITE "${_fx}/base/up.c" "#include \"cli/cli.h\"\n")
add_test(NAME layering_refuses_upward COMMAND ${CMAKE_COMMAND} -DSRC=${_fx} -DMINFILES=1 -P
                                              ${CMAKE_SOURCE_DIR}/cmake/layers.cmake)
set_tests_properties(layering_refuses_upward PROPERTIES
  PASS_REGULAR_EXPRESSION "base/up.c includes cli/cli.h: cli/ is a layer above base/")

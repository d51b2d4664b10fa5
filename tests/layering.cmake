# The layering check (ARCHITECTURE.md, "Layers", cmake/layers.cmake) over the source tree,
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

# Inside models/, the sub-layers (hw < sched < models/'s own files, the
# workload seam < llm and every family): a fixture whose hw/ file includes
# sched/ must be refused, while its downward includes (llm/ on the seam,
# sched/ and hw/; the seam on sched/) pass.
set(_fxm "${CMAKE_BINARY_DIR}/layering-fixture-models")
file(WRITE "${_fxm}/models/hw/ok.c" "#include \"models/hw/calib.h\"\n")
file(WRITE "${_fxm}/models/llm/ok.c"
     "#include \"models/workload.h\"\n#include \"models/sched/plan.h\"\n#include \"models/hw/cost.h\"\n")
file(WRITE "${_fxm}/models/ok.c" "#include \"models/sched/sched.h\"\n#include \"sim/prog.h\"\n")
file(WRITE "${_fxm}/models/hw/up.c" "#include \"models/sched/plan.h\"\n")
add_test(NAME layering_refuses_upward_sublayer COMMAND ${CMAKE_COMMAND} -DSRC=${_fxm} -DMINFILES=1
                                                       -P ${CMAKE_SOURCE_DIR}/cmake/layers.cmake)
# The one refusal, and only it (the count is 1).
set(_re "layering: models/hw/up.c includes models/sched/plan.h: ")
string(APPEND _re "models/sched/ is a sub-layer above models/hw/\nCMake Error[^\n]*\n  layering: 1 include")
set_tests_properties(layering_refuses_upward_sublayer PROPERTIES PASS_REGULAR_EXPRESSION "${_re}")

# Simulator core (issue 2): collectives' closed forms, presets against
# published figures, cluster input errors through the library and the CLI.
sft_add_test(NAME test_coll SOURCES test_coll.c)
sft_add_test(NAME test_coll_presets SOURCES test_coll_presets.c)
sft_add_test(NAME test_cluster SOURCES test_cluster.c)
sft_add_test(NAME test_cli_core SOURCES test_cli_core.c)

# Valgrind over the engine path (platform, actors, flows): no invalid access,
# no definite leak. Not in the sanitizer build (the two do not mix).
find_program(VALGRIND_EXE valgrind)
if(VALGRIND_EXE)
  add_test(NAME valgrind_collective
    COMMAND ${VALGRIND_EXE} -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite
            $<TARGET_FILE:sftsim> collective --op all_reduce --gpus 16 --sizes 1M,64M)
  set_tests_properties(valgrind_collective PROPERTIES LABELS "valgrind;nosan")
endif()

# Fuzzing the JSON descriptions (cluster, GPU, architecture, calibration),
# seeded with the built-in files.
sft_add_fuzz(NAME fuzz_configs
  SOURCES "${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_configs.c"
          "${CMAKE_SOURCE_DIR}/base/base.c" "${CMAKE_SOURCE_DIR}/base/jsonx.c"
          "${CMAKE_SOURCE_DIR}/sim/cluster.c" "${CMAKE_SOURCE_DIR}/sim/coll.c"
          "${CMAKE_SOURCE_DIR}/sim/topo.c" "${CMAKE_SOURCE_DIR}/sim/gpu.c"
          "${CMAKE_SOURCE_DIR}/models/hw/calib.c" "${CMAKE_SOURCE_DIR}/models/llm/arch.c"
          "${SFT_BUILTIN_C}"
  LIBS -lcjson -lm
  DEPENDS "${CMAKE_SOURCE_DIR}/sim/cluster.h" "${CMAKE_SOURCE_DIR}/models/hw/calib.h"
          "${CMAKE_SOURCE_DIR}/models/llm/arch.h"
  CORPUS "${CMAKE_SOURCE_DIR}/sim/clusters" "${CMAKE_SOURCE_DIR}/sim/gpus"
         "${CMAKE_SOURCE_DIR}/models/llm/archs" "${CMAKE_SOURCE_DIR}/models/hw/calibration")

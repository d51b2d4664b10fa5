# Bad and extreme inputs (issue 11): a data-driven table of cases run through
# the real binary (tests/badinput/README.md). sft_badinput reads the case
# files, creates the inputs each case needs, runs sftsim under a timeout and
# checks the promises of ARCHITECTURE.md, "Contracts": exit code, message, nothing left behind, a
# clean stdout, no sanitizer report. One ctest test per case file, so they
# run in parallel; a full disk needs root (a small tmpfs), else those cases
# are skipped.
add_executable(sft_badinput badinput/runner.c)
target_link_libraries(sft_badinput PRIVATE PkgConfig::CJSON)
add_dependencies(sft_badinput sftsim)
if(SFT_SANITIZE)
  set(SFT_BADINPUT_SCALE 2) # timeouts: the sanitizer build runs slower
else()
  set(SFT_BADINPUT_SCALE 1)
endif()
foreach(cat options_run options_other files_hw files_data lists outputs)
  add_test(NAME badinput_${cat}
    COMMAND sft_badinput --sftsim $<TARGET_FILE:sftsim> --src "${CMAKE_SOURCE_DIR}"
            --timeout-scale ${SFT_BADINPUT_SCALE}
            "${CMAKE_CURRENT_SOURCE_DIR}/badinput/${cat}.cases")
  set_tests_properties(badinput_${cat} PROPERTIES LABELS badinput TIMEOUT 600
    SKIP_RETURN_CODE 77)
endforeach()

# Fuzzing the scenario option parser and resolver (scen_parse, scen_resolve)
# and the shared value parsers, argv split from the input; the pipeline
# behind them is stubbed out in the harness (it must not simulate). Seeds in
# fuzz/corpus_options/.
sft_add_fuzz(NAME fuzz_options
  SOURCES "${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_options.c"
          "${CMAKE_SOURCE_DIR}/lab/scenario.c" "${CMAKE_SOURCE_DIR}/lab/scen_values.c"
          "${CMAKE_SOURCE_DIR}/cli/cli_common.c"
          "${CMAKE_SOURCE_DIR}/base/base.c" "${CMAKE_SOURCE_DIR}/base/jsonx.c"
          "${CMAKE_SOURCE_DIR}/sim/cluster.c" "${CMAKE_SOURCE_DIR}/sim/topo.c"
          "${CMAKE_SOURCE_DIR}/sim/coll.c" "${CMAKE_SOURCE_DIR}/sim/gpu.c"
          "${CMAKE_SOURCE_DIR}/models/hw/calib.c" "${CMAKE_SOURCE_DIR}/models/llm/arch.c"
          "${CMAKE_SOURCE_DIR}/models/hw/cost.c" "${CMAKE_SOURCE_DIR}/models/llm/memory.c"
          "${CMAKE_SOURCE_DIR}/models/hw/hbm.c" "${CMAKE_SOURCE_DIR}/models/llm/family.c"
          "${CMAKE_SOURCE_DIR}/models/sched/par.c"
          "${CMAKE_SOURCE_DIR}/models/workload.c" "${CMAKE_BINARY_DIR}/gen/wl_registry.c"
          "${CMAKE_SOURCE_DIR}/models/sched/sched.c" "${SFT_BUILTIN_C}"
  LIBS -lcjson -lm
  DEPENDS "${CMAKE_SOURCE_DIR}/lab/scenario.h" "${CMAKE_SOURCE_DIR}/cli/cli.h"
          "${CMAKE_SOURCE_DIR}/base/base.h" "${CMAKE_SOURCE_DIR}/models/sched/sched.h"
  CORPUS "${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus_options")

# Tests of the traces module (traces/): dataset distributions against the
# Skrull paper's Table 1, determinism, statistics, file formats and bad
# input through the real `sftsim trace` binary, and a libFuzzer target for
# the trace-file and dataset parsers.
set(SFT_TRACES_TEST_UTIL "${CMAKE_CURRENT_SOURCE_DIR}/test_traces_util.c")
foreach(t table1 determinism stats formats badfiles dist)
  sft_add_test(NAME test_traces_${t}
    SOURCES "${CMAKE_CURRENT_SOURCE_DIR}/test_traces_${t}.c" "${SFT_TRACES_TEST_UTIL}"
    TIMEOUT 120)
endforeach()
# the tests that run the binary need it built
foreach(t determinism stats formats badfiles)
  add_dependencies(test_traces_${t} sftsim)
endforeach()

# ---- fuzzing: the trace-file and dataset parsers ---------------------------
sft_add_fuzz(NAME fuzz_traces
  SOURCES "${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_traces.c" ${SFT_TRACES_SOURCES}
          "${CMAKE_SOURCE_DIR}/base/base.c" "${CMAKE_SOURCE_DIR}/base/jsonx.c" "${SFT_BUILTIN_C}"
  LIBS -lcjson -lgsl -lgslcblas -lm
  DEPENDS "${CMAKE_SOURCE_DIR}/traces/trace.h" "${CMAKE_SOURCE_DIR}/base/base.h"
          "${CMAKE_SOURCE_DIR}/base/jsonx.h"
  CORPUS "${CMAKE_SOURCE_DIR}/tests/data/traces")

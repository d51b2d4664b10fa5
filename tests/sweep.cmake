# Sweeps, resumption, MPI and the paper reproduction (issue 8); stale
# resumption, list checks, kills and orphaned workers (issue 11).
sft_add_test(NAME test_sweep SOURCES test_sweep.c TIMEOUT 600 LABELS nosan)
target_link_libraries(test_sweep PRIVATE sftsim_cli) # for SFT_HAVE_MPI

# Fuzzing the sweep's comma lists (sweep_list_split): the splitter lives in
# sweep_out.c with the writers, so the target compiles those too (HDF5 and
# cairo, never called here).
# Seeds: the first byte picks the option (its code modulo 22, see the
# target's table): '-' --gpus, '*' --policies, '8' --cp-impl, '>'
# --host-overhead-ms, '6' --steps, 'A' an option the checks do not know.
set(_sft_seeds "${CMAKE_BINARY_DIR}/fuzz/seeds_fuzz_sweep_lists")
set(_sft_seed_texts "-8,16,32" "*deepspeed,skrull" "8allgather,ulysses,ring" ">0.5,2" "68,"
    "-8,,16" "Ah100x8,h100x32")
set(_i 0)
foreach(t IN LISTS _sft_seed_texts)
  file(WRITE "${_sft_seeds}/seed${_i}" "${t}")
  math(EXPR _i "${_i} + 1")
endforeach()
set(_sft_fuzz_sweep_flags)
foreach(d IN LISTS HDF5_INCLUDE_DIRS CAIRO_INCLUDE_DIRS)
  list(APPEND _sft_fuzz_sweep_flags "-I${d}")
endforeach()
sft_add_fuzz(NAME fuzz_sweep_lists
  SOURCES "${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_sweep_lists.c"
          "${CMAKE_SOURCE_DIR}/lab/sweep_out.c" "${CMAKE_SOURCE_DIR}/lab/scen_values.c" "${CMAKE_SOURCE_DIR}/reports/h5x.c"
          "${CMAKE_SOURCE_DIR}/reports/sweepplot.c" "${CMAKE_SOURCE_DIR}/base/base.c"
          "${SFT_BUILTIN_C}"
  LIBS ${_sft_fuzz_sweep_flags} ${HDF5_LINK_LIBRARIES} ${HDF5_HL_LIB} ${CAIRO_LINK_LIBRARIES}
       -lz -lcjson -lm
  DEPENDS "${CMAKE_SOURCE_DIR}/lab/sweep_out.h" "${CMAKE_SOURCE_DIR}/base/base.h"
  CORPUS "${_sft_seeds}")

# The paper's case study (issue 13): peak memory per step with and without
# roll-back, OOM flags against the usable memory.
sft_add_test(NAME test_reproduce SOURCES test_reproduce.c TIMEOUT 600)

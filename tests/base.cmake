# The input, output and signal contract of base/base.c (issue 11): regular
# input files under a size limit, mkdir -p and writability of output
# directories, removal of dead runs' temporaries and of this run's on a
# fatal signal, a full disk as exit 4.
sft_add_test(NAME test_base SOURCES test_base.c)
# run --out killed at 24 moments by SIGKILL, SIGINT, SIGTERM: complete files
# or none, no temporary left; mpirun -n 2 runs a non-sweep command once.
sft_add_test(NAME test_cli_out SOURCES test_cli_out.c TIMEOUT 600)

# Valgrind over the regression cases of issue 11: the use-after-free of
# collective --sizes, inputs refused before they are read, a bad sweep list,
# an out-of-range option, and the 1024-GPU --out run that overflowed the
# Chrome trace buffer. Each must exit with its contract code and no error
# of valgrind's (exit 9). Not in the sanitizer build (the two do not mix).
find_program(VALGRIND_EXE valgrind)
if(VALGRIND_EXE)
  function(sft_valgrind_case name code)
    add_test(NAME valgrind_${name}
      COMMAND sh -c "\"$@\"; rc=$?; [ $rc -eq ${code} ] || { echo \"exit $rc, want ${code}\"; exit 1; }"
              sh ${VALGRIND_EXE} -q --error-exitcode=9 --leak-check=full
              --errors-for-leak-kinds=definite
              --suppressions=${CMAKE_SOURCE_DIR}/reports/valgrind.supp
              $<TARGET_FILE:sftsim> ${ARGN})
    set_tests_properties(valgrind_${name} PROPERTIES LABELS "valgrind;nosan" TIMEOUT 900)
  endfunction()
  sft_valgrind_case(sizes_bogus 2 collective --op all_gather --gpus 8 --sizes bogus)
  sft_valgrind_case(sizes_zero 2 collective --op all_gather --gpus 8 --sizes 0,4K)
  sft_valgrind_case(cluster_devzero 2 run --cluster /dev/zero)
  sft_valgrind_case(sweep_bad_item 2 sweep --gpus 8,,16 --steps 1)
  sft_valgrind_case(host_overhead_range 2 run --host-overhead-ms 1e300)
  sft_valgrind_case(run_1024_out 0 run --gpus 1024 --dp 128 --cp 8 --steps 1 --granularity layer
                    --out ${CMAKE_CURRENT_BINARY_DIR}/valgrind-1024)
endif()

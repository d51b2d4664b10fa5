# Sweeps, resumption, MPI and the paper reproduction (issue 8).
sft_add_test(NAME test_sweep SOURCES test_sweep.c TIMEOUT 600 LABELS nosan)
target_link_libraries(test_sweep PRIVATE sftsim_cli) # for SFT_HAVE_MPI

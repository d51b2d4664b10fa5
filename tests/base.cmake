# The input, output and signal contract of sim/base.c (issue 11): regular
# input files under a size limit, mkdir -p and writability of output
# directories, removal of dead runs' temporaries and of this run's on a
# fatal signal, a full disk as exit 4.
sft_add_test(NAME test_base SOURCES test_base.c)
# run --out killed at 24 moments by SIGKILL, SIGINT, SIGTERM: complete files
# or none, no temporary left; mpirun -n 2 runs a non-sweep command once.
sft_add_test(NAME test_cli_out SOURCES test_cli_out.c TIMEOUT 600)

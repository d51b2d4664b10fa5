# The input, output and signal contract of sim/base.c (issue 11): regular
# input files under a size limit, mkdir -p and writability of output
# directories, removal of dead runs' temporaries and of this run's on a
# fatal signal, a full disk as exit 4.
sft_add_test(NAME test_base SOURCES test_base.c)

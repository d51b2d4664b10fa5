# Scale limits (issue 11): `test_scale` checks the memory-mapping limit
# (injected and this machine's) and the 16-bit op-name ids; `test_scale_1024`
# runs the 1024-GPU scenario that once corrupted the heap, at op and layer
# granularity, and checks every output in full. Both run in the sanitizer
# build too (no nosan label): there any overrun is fatal.
sft_add_test(NAME test_scale SOURCES test_scale.c ARGS unit TIMEOUT 120
             LIBS sftsim_cli ${HDF5_HL_LIB} ZLIB::ZLIB) # reads the outputs back
add_test(NAME test_scale_1024 COMMAND test_scale big)
set_tests_properties(test_scale_1024 PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300
  ENVIRONMENT "SFT_SRC=${CMAKE_SOURCE_DIR};SFT_BIN=${CMAKE_BINARY_DIR}")
# The strict JSON parser walks 280 MB of trace: optimised even in the Debug
# (sanitizer) build, where -O0 would make it the slowest part of the test.
set_source_files_properties(test_scale.c PROPERTIES COMPILE_OPTIONS -O2)

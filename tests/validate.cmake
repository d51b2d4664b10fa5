# validate/ (issue 7): the `sftsim-validate` harness. The CPU loop measures a
# small grid and a held-out grid and predicts the second from the first (the
# method tested on any machine); the GPU test measures a tiny grid with CUDA
# (label gpu: exits 77, a skip, without a usable device); bad calibration and
# grid files must be rejected naming the field; `paper` reproduces the
# Skrull collective table; the grids' construction is checked directly.
sft_add_test(NAME test_validate_loop SOURCES test_validate_loop.c LABELS validate nosan
             TIMEOUT 300)
sft_add_test(NAME test_validate_cli SOURCES test_validate_cli.c LIBS sftsim_kernels
             LABELS validate TIMEOUT 300)
sft_add_test(NAME test_validate_grid SOURCES test_validate_grid.c LABELS validate TIMEOUT 60)
target_link_libraries(test_validate_grid PRIVATE sftsim_validate)
sft_add_test(NAME test_validate_paper SOURCES test_validate_paper.c LABELS validate TIMEOUT 120)
sft_add_test(NAME test_validate_gpu SOURCES test_validate_gpu.c LIBS sftsim_kernels
             LABELS validate gpu TIMEOUT 600)
# the tests run the binary: build it with them
foreach(t test_validate_loop test_validate_cli test_validate_paper test_validate_gpu)
  add_dependencies(${t} sftsim-validate)
endforeach()

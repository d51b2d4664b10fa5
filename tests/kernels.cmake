# kernels/: CPU flash attention vs the naive oracle and finite differences,
# the CPU GEMM, the API contract, and the CUDA backend (label gpu: exits 77,
# a skip, without a usable CUDA device).
sft_add_test(NAME test_kernels_attn SOURCES test_kernels_attn.c LIBS sftsim_kernels
             LABELS kernels TIMEOUT 120)
sft_add_test(NAME test_kernels_gemm SOURCES test_kernels_gemm.c LIBS sftsim_kernels
             LABELS kernels TIMEOUT 60)
sft_add_test(NAME test_kernels_api SOURCES test_kernels_api.c LIBS sftsim_kernels
             LABELS kernels TIMEOUT 60)
sft_add_test(NAME test_kernels_gpu SOURCES test_kernels_gpu.c LIBS sftsim_kernels
             LABELS kernels gpu TIMEOUT 300)

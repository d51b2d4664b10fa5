# Cost models, memory model, DeepSpeed baseline and `sftsim run` (issue 4).
sft_add_test(NAME test_models SOURCES test_models.c)
sft_add_test(NAME test_run SOURCES test_run.c TIMEOUT 600)

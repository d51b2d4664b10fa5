# Scheduling policies (issue 5): properties over random batches, the exact
# optimum against the heuristics, and compare/schedule end to end.
sft_add_test(NAME test_sched SOURCES test_sched.c TIMEOUT 900 LABELS slow)
sft_add_test(NAME test_compare SOURCES test_compare.c TIMEOUT 600)

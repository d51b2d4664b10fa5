# Cost models, memory model, DeepSpeed baseline and `sftsim run` (issue 4).
sft_add_test(NAME test_models SOURCES test_models.c)
sft_add_test(NAME test_run SOURCES test_run.c TIMEOUT 600)
# How CP traffic and attention are issued; small-shape kernel costs (issue 13).
sft_add_test(NAME test_cp_issue SOURCES test_cp_issue.c)
# DeepSpeed's gradient reduction (issue 13): bucket all-reduce / reduce-scatter,
# fp32 vs bf16, ZeRO-1 vs ZeRO-2, overlap_comm, against the collectives' closed form.
sft_add_test(NAME test_grad SOURCES test_grad.c TIMEOUT 600)

# Valgrind over a whole run (trace, schedule, program, engine, summary) and a
# compare with the exact optimum (GLPK): no invalid access, no definite leak.
if(VALGRIND_EXE)
  add_test(NAME valgrind_run
    COMMAND ${VALGRIND_EXE} -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite
            $<TARGET_FILE:sftsim> run --cluster h100x8 --dp 2 --cp 4 --batch 8 --steps 2)
  add_test(NAME valgrind_compare
    COMMAND ${VALGRIND_EXE} -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite
            $<TARGET_FILE:sftsim> compare --cluster h100x8 --dp 2 --cp 4 --batch 4 --steps 1
            --policies deepspeed,sorted,roundrobin,dacp,skrull,optimal)
  set_tests_properties(valgrind_run valgrind_compare PROPERTIES LABELS "valgrind;nosan")
endif()

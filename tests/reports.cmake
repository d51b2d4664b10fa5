# Reports (issue 6): the HDF5 timeline, the Chrome trace, the schedule graph,
# the Gantt chart and the atomic output of --out. The timeline and graph
# tests re-run scenarios through the CLI library to know what to expect; the
# tests read the files back with HDF5's table API, zlib and cgraph.
sft_add_test(NAME test_reports_timeline SOURCES test_reports_timeline.c
             LIBS sftsim_cli ${HDF5_HL_LIB} TIMEOUT 300)
sft_add_test(NAME test_reports_trace SOURCES test_reports_trace.c
             LIBS ${HDF5_HL_LIB} ZLIB::ZLIB TIMEOUT 300)
sft_add_test(NAME test_reports_graph SOURCES test_reports_graph.c
             LIBS sftsim_cli PkgConfig::GV TIMEOUT 300)
sft_add_test(NAME test_reports_files SOURCES test_reports_files.c TIMEOUT 300)

# Valgrind over a comparison writing every report: no invalid access, no
# definite leak of ours (reports/valgrind.supp lists the libraries').
if(VALGRIND_EXE)
  add_test(NAME valgrind_reports
    COMMAND ${VALGRIND_EXE} -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite
            --suppressions=${CMAKE_SOURCE_DIR}/reports/valgrind.supp
            $<TARGET_FILE:sftsim> compare --cluster h100x8 --dp 2 --cp 4 --batch 8 --steps 1
            --out ${CMAKE_CURRENT_BINARY_DIR}/valgrind-reports)
  set_tests_properties(valgrind_reports PROPERTIES LABELS "valgrind;nosan" TIMEOUT 600)
endif()

# The attribution of compare --explain (issue 13): closed forms on hand-made
# runs, and causes that add up to the step-time difference on simulated ones.
sft_add_test(NAME test_explain SOURCES test_explain.c TIMEOUT 300)

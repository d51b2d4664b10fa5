# Host dispatch (issue 13, part 4): closed forms through the engine, a
# host-bound per-sequence micro-batch, and --dispatch-us 0 against the
# golden default run.
sft_add_test(NAME test_host SOURCES test_host.c TIMEOUT 300)

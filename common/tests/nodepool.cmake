# test-nodepool (created by the test-*.c glob) also runs two real venus-devnet processes.
# devnet/ is configured after common/: generator expressions and add_dependencies resolve the
# target at generation time.
add_dependencies(test-nodepool venus-devnet)
set_tests_properties(common/test-nodepool PROPERTIES TIMEOUT 120
    ENVIRONMENT "VENUS_DEVNET_BIN=$<TARGET_FILE:venus-devnet>;VC_TEST_SRC=${CMAKE_CURRENT_SOURCE_DIR}")

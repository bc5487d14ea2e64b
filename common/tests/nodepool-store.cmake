# The node-pool settings store against PostgreSQL: same executable, --pg.
include(${CMAKE_CURRENT_LIST_DIR}/postgres.cmake)

add_test(NAME common/test-nodepool-store-pg COMMAND test-nodepool-store --pg)
set_tests_properties(common/test-nodepool-store-pg PROPERTIES FIXTURES_REQUIRED pg LABELS "postgres;ha" TIMEOUT 300
    ENVIRONMENT "VC_PG_DSN_FILE=${VC_PG_DSN_FILE}")
# the sqlite run (created by the test-*.c glob) belongs to the HA work too
set_tests_properties(common/test-nodepool-store PROPERTIES LABELS "unit;ha")
set_tests_properties(common/test-nodepool-cli PROPERTIES LABELS "unit;ha")

include_guard(GLOBAL) # also included by files that sort before it (ha.cmake)
# PostgreSQL ctest fixture "pg", registered once here (common/ is configured before every other
# test directory). Other test directories reuse it:
#
#   set_tests_properties(<test> PROPERTIES FIXTURES_REQUIRED pg LABELS postgres
#                        ENVIRONMENT "VC_PG_DSN_FILE=${VC_PG_DSN_FILE}")
#
# and call vc_test_db_fresh_dsn(true) (tests/lib/vc-test-db.h) for a private database.
# The fixture runs tests/pg-fixture.sh: a throwaway server on 127.0.0.1:<random port>.
set(VC_PG_STATE_DIR "${CMAKE_BINARY_DIR}/pg-fixture" CACHE INTERNAL "pg fixture state directory")
set(VC_PG_DSN_FILE "${VC_PG_STATE_DIR}/pg.dsn" CACHE INTERNAL "DSN file written by the pg fixture")

add_test(NAME pg/start COMMAND sh ${CMAKE_SOURCE_DIR}/tests/pg-fixture.sh start ${VC_PG_STATE_DIR})
set_tests_properties(pg/start PROPERTIES FIXTURES_SETUP pg LABELS postgres TIMEOUT 120)
add_test(NAME pg/stop COMMAND sh ${CMAKE_SOURCE_DIR}/tests/pg-fixture.sh stop ${VC_PG_STATE_DIR})
set_tests_properties(pg/stop PROPERTIES FIXTURES_CLEANUP pg LABELS postgres TIMEOUT 60)

# The db module against PostgreSQL: same executable, --pg.
add_test(NAME common/test-db-pg COMMAND test-db --pg)
set_tests_properties(common/test-db-pg PROPERTIES FIXTURES_REQUIRED pg LABELS postgres TIMEOUT 300
    ENVIRONMENT "VC_PG_DSN_FILE=${VC_PG_DSN_FILE};VC_TEST_SRC=${CMAKE_CURRENT_SOURCE_DIR}")

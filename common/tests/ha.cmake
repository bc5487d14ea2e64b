# The HA lease module against PostgreSQL: same executable, --pg. postgres.cmake sorts after
# this file and defines VC_PG_DSN_FILE: include it first (it guards against a second include).
# VC_PG_FIXTURE lets the test start a private server for its database-restart case, so the
# shared fixture server is never restarted under other tests.
include(${CMAKE_CURRENT_LIST_DIR}/postgres.cmake)

add_test(NAME common/test-ha-pg COMMAND test-ha --pg)
set_tests_properties(common/test-ha-pg PROPERTIES FIXTURES_REQUIRED pg LABELS postgres TIMEOUT 300
    ENVIRONMENT "VC_PG_DSN_FILE=${VC_PG_DSN_FILE};VC_PG_FIXTURE=${CMAKE_SOURCE_DIR}/tests/pg-fixture.sh")

# Presence (ha-peers.c) against PostgreSQL.
add_test(NAME common/test-ha-peers-pg COMMAND test-ha-peers --pg)
set_tests_properties(common/test-ha-peers-pg PROPERTIES FIXTURES_REQUIRED pg LABELS postgres TIMEOUT 300
    ENVIRONMENT "VC_PG_DSN_FILE=${VC_PG_DSN_FILE}")

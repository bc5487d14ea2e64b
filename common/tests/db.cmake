# test-db: the test schema (common/tests/sql) compiled in with vc_embed_sql, so the embedded
# migration path is tested (the glob in CMakeLists.txt created the test-db target).
vc_embed_sql(test-db testdb ${CMAKE_CURRENT_SOURCE_DIR}/sql)

# venus-messager's client commands (msg, address, share-params, node, log, send, swarm): a
# library the daemon's main links; its tests run against a stand-in JSON-RPC server.
add_library(msgrcli STATIC ${CMAKE_CURRENT_LIST_DIR}/msgr-cli.c)
target_include_directories(msgrcli PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(msgrcli PUBLIC msgrstore vc)

add_executable(test-msgr-cli ${CMAKE_CURRENT_LIST_DIR}/tests/test-msgr-cli.c)
target_link_libraries(test-msgr-cli PRIVATE msgrcli vctest Threads::Threads)
add_test(NAME messager/test-msgr-cli COMMAND test-msgr-cli)
set_tests_properties(messager/test-msgr-cli PROPERTIES LABELS unit TIMEOUT 120)

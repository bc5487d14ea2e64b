# venus-auth command-line client (included by auth/CMakeLists.txt).
add_library(authcli STATIC ${CMAKE_CURRENT_LIST_DIR}/auth-cli.c ${CMAKE_CURRENT_LIST_DIR}/auth-config.c)
target_include_directories(authcli PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(authcli PUBLIC vc)

add_executable(test-auth-cli ${CMAKE_CURRENT_LIST_DIR}/tests/test-auth-cli.c)
target_link_libraries(test-auth-cli PRIVATE authcli vctest)
# auth_cmd_run comes from auth-daemon.c in the full build; a stub when building the CLI alone.
if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/auth-daemon-stub.c)
    target_sources(test-auth-cli PRIVATE ${CMAKE_CURRENT_LIST_DIR}/auth-daemon-stub.c)
endif()
add_test(NAME auth/test-auth-cli COMMAND test-auth-cli)
set_tests_properties(auth/test-auth-cli PROPERTIES LABELS unit TIMEOUT 60)

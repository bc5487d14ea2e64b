# End-to-end: the real venus-auth, venus-gateway, two venus-wallet daemons and the venus-devnet
# prover together (issue 5 "Tests"). Label "e2e".
add_executable(e2e-gateway-wallet ${CMAKE_CURRENT_LIST_DIR}/e2e-gateway-wallet.c)
target_link_libraries(e2e-gateway-wallet PRIVATE vctest)
add_dependencies(e2e-gateway-wallet venus-auth venus-gateway venus-wallet venus-devnet)
add_test(NAME e2e/gateway-wallet COMMAND e2e-gateway-wallet)
set_tests_properties(e2e/gateway-wallet PROPERTIES LABELS e2e TIMEOUT 300
    ENVIRONMENT "VENUS_AUTH_BIN=$<TARGET_FILE:venus-auth>;VENUS_GATEWAY_BIN=$<TARGET_FILE:venus-gateway>;VENUS_WALLET_BIN=$<TARGET_FILE:venus-wallet>;VENUS_DEVNET_BIN=$<TARGET_FILE:venus-devnet>;VC_VECTORS_FILE=${VC_VECTORS_FILE}")

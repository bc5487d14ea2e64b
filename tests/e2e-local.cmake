# deploy/local.sh end to end (issue 9): `up` from this build dir on port 0, messages through the
# CLI, blocks from venus-miner, `down` leaves no process; the --postgres variant checks the
# leases of two messager and two miner instances. Label "e2e". Needs python3 and, for
# --postgres, Debian's postgresql (scripts/deps.sh).
foreach(variant sqlite postgres)
    set(args ${CMAKE_BINARY_DIR})
    if(variant STREQUAL "postgres")
        list(APPEND args --postgres)
    endif()
    add_test(NAME e2e/local-${variant} COMMAND python3 ${CMAKE_CURRENT_LIST_DIR}/e2e/local-suite.py ${args})
    set_tests_properties(e2e/local-${variant} PROPERTIES LABELS e2e TIMEOUT 240
        ENVIRONMENT PYTHONDONTWRITEBYTECODE=1)
endforeach()

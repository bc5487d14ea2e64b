# Deployment artifacts (issue 9): systemd units, Dockerfiles, Kubernetes manifests, Prometheus
# config, alert rules and the Grafana dashboard, checked against the binaries of this build.
# Label "deploy". Tools: python3 + python3-yaml, systemd-analyze, promtool (scripts/deps.sh).
set(VC_DEPLOY_TESTS
    systemd check-systemd.py 60
    docker-lint lint-dockerfiles.py 60
    k8s check-k8s.py 60
    observability check-observability.py 300)
while(VC_DEPLOY_TESTS)
    list(POP_FRONT VC_DEPLOY_TESTS name script timeout)
    add_test(NAME deploy/${name} COMMAND python3 ${CMAKE_CURRENT_LIST_DIR}/deploy/${script} ${CMAKE_BINARY_DIR})
    set_tests_properties(deploy/${name} PROPERTIES LABELS deploy TIMEOUT ${timeout}
        ENVIRONMENT PYTHONDONTWRITEBYTECODE=1)
endwhile()

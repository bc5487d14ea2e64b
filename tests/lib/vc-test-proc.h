/*
 * vc-test-proc.h: running real daemons and CLIs from tests.
 *
 * vc_test_spawn starts argv[0] (a path) with stdout/stderr appended to log_path (NULL = the
 * test's own), in its own process group; every spawned process still alive at exit is killed.
 * vc_test_run_cmd runs a command to completion and captures its stdout (and stderr separately).
 */
#ifndef VC_TEST_PROC_H
#define VC_TEST_PROC_H

#include <stdbool.h>
#include <sys/types.h>

pid_t vc_test_spawn(const char *const *argv, const char *log_path);
/* SIGTERM, wait up to timeout_ms, then SIGKILL. Returns the exit status as from waitpid, or -1. */
int vc_test_stop(pid_t pid, int timeout_ms);
/* True if the process is still running (reaps it otherwise). */
bool vc_test_alive(pid_t pid);
/* Waits until path exists and is non-empty (polling); false on timeout. */
bool vc_test_wait_file(const char *path, int timeout_ms);
/* Runs argv, returns its exit code (or -1), *ret_out / *ret_err malloc'ed (may be NULL). */
int vc_test_run_cmd(const char *const *argv, char **ret_out, char **ret_err);

#endif

/* vc-test-proc.c: spawn / stop / run processes for integration tests. */
#include "vc-test-proc.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vc/util.h"

extern char **environ;

#define MAX_CHILDREN 64
static pid_t children[MAX_CHILDREN];
static bool atexit_set;

static void kill_children(void)
{
    for (int i = 0; i < MAX_CHILDREN; i++)
        if (children[i] > 0) {
            kill(children[i], SIGKILL);
            waitpid(children[i], NULL, 0);
            children[i] = 0;
        }
}

static void track(pid_t pid, bool add)
{
    for (int i = 0; i < MAX_CHILDREN; i++)
        if (add ? children[i] == 0 : children[i] == pid) {
            children[i] = add ? pid : 0;
            return;
        }
}

pid_t vc_test_spawn(const char *const *argv, const char *log_path)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    pid_t pid = -1;
    if (!atexit_set) {
        atexit(kill_children);
        atexit_set = true;
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&at);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP);
    if (log_path) {
        posix_spawn_file_actions_addopen(&fa, 1, log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        posix_spawn_file_actions_adddup2(&fa, 1, 2);
    }
    if (posix_spawn(&pid, argv[0], &fa, &at, (char *const *)argv, environ) != 0)
        pid = -1;
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    if (pid > 0)
        track(pid, true);
    return pid;
}

int vc_test_stop(pid_t pid, int timeout_ms)
{
    int status = -1;
    if (pid <= 0)
        return -1;
    kill(pid, SIGTERM);
    for (int i = 0; i < timeout_ms / 10; i++) {
        if (waitpid(pid, &status, WNOHANG) == pid) {
            track(pid, false);
            return status;
        }
        vc_sleep_ms(10);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    track(pid, false);
    return status;
}

bool vc_test_alive(pid_t pid)
{
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid) {
        track(pid, false);
        return false;
    }
    return kill(pid, 0) == 0;
}

bool vc_test_wait_file(const char *path, int timeout_ms)
{
    struct stat st;
    for (int i = 0; i <= timeout_ms / 10; i++) {
        if (stat(path, &st) == 0 && st.st_size > 0)
            return true;
        vc_sleep_ms(10);
    }
    return false;
}

static char *slurp(int fd)
{
    vc_buf_t b = {0};
    char chunk[4096];
    ssize_t n;
    while ((n = read(fd, chunk, sizeof(chunk))) > 0)
        vc_buf_append(&b, chunk, (size_t)n);
    return vc_buf_steal(&b);
}

int vc_test_run_cmd(const char *const *argv, char **ret_out, char **ret_err)
{
    char out_tmpl[] = "/tmp/vctest-outXXXXXX", err_tmpl[] = "/tmp/vctest-errXXXXXX";
    int ofd = mkstemp(out_tmpl), efd = mkstemp(err_tmpl);
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int status = -1;
    if (ofd < 0 || efd < 0)
        return -1;
    unlink(out_tmpl);
    unlink(err_tmpl);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, ofd, 1);
    posix_spawn_file_actions_adddup2(&fa, efd, 2);
    if (posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ) == 0)
        waitpid(pid, &status, 0);
    posix_spawn_file_actions_destroy(&fa);
    lseek(ofd, 0, SEEK_SET);
    lseek(efd, 0, SEEK_SET);
    if (ret_out)
        *ret_out = slurp(ofd);
    if (ret_err)
        *ret_err = slurp(efd);
    close(ofd);
    close(efd);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* wallet-daemon.c: `venus-wallet run`. */
#include "wallet-daemon.h"

#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "vc/authn.h"
#include "vc/conf.h"
#include "vc/http.h"
#include "vc/log.h"
#include "wallet-api.h"
#include "wallet-gateway.h"
#include "wallet-keystore.h"

#define PASS_MAX 4096

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
    va_list ap;
    fputs("ERROR: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 1;
}

char *wallet_repo_path(vc_cli_ctx_t *ctx)
{
    const char *repo = vc_cli_string(ctx, "repo");
    return vc_expand_home(vc_strempty(repo) ? "~/.venus_wallet" : repo);
}

void wallet_passphrase_free(char *p)
{
    if (p) {
        sodium_memzero(p, strlen(p));
        free(p);
    }
}

static void chomp(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = 0;
}

static char *prompt(FILE *tty, int fd, const char *text)
{
    struct termios old, quiet;
    char buf[PASS_MAX];
    bool restore = tcgetattr(fd, &old) == 0;
    fputs(text, tty);
    fflush(tty);
    if (restore) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(fd, TCSAFLUSH, &quiet);
    }
    char *line = fgets(buf, sizeof(buf), tty);
    if (restore)
        tcsetattr(fd, TCSAFLUSH, &old);
    fputc('\n', tty);
    if (!line)
        return NULL;
    chomp(buf);
    char *p = strdup(buf);
    sodium_memzero(buf, sizeof(buf));
    return p;
}

int wallet_read_passphrase(vc_cli_ctx_t *ctx, bool confirm, char **ret)
{
    const char *file = vc_cli_string(ctx, "password-file");
    const char *env = getenv(WALLET_PASSWORD_ENV);
    char *p = NULL;
    if (!vc_strempty(file)) {
        size_t len;
        int r = vc_read_file(file, PASS_MAX, &p, &len);
        if (r < 0) {
            fail("cannot read the password file %s: %s", file, vc_strerror(r));
            return r;
        }
        chomp(p);
    } else if (!vc_strempty(env)) {
        p = strdup(env);
    } else {
        if (!isatty(STDIN_FILENO))
            return 0;
        int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
        FILE *tty = fd >= 0 ? fdopen(fd, "r+") : NULL;
        if (!tty) {
            if (fd >= 0)
                close(fd);
            return 0;
        }
        p = prompt(tty, fd, confirm ? "Set a wallet passphrase: " : "Wallet passphrase: ");
        if (p && confirm) {
            char *again = prompt(tty, fd, "Repeat the passphrase: ");
            if (!again || strcmp(again, p) != 0) {
                wallet_passphrase_free(again);
                wallet_passphrase_free(p);
                fclose(tty);
                fail("the passphrases do not match");
                return -EINVAL;
            }
            wallet_passphrase_free(again);
        }
        fclose(tty);
    }
    if (!p)
        return -ENOMEM;
    if (!*p) {
        free(p);
        fail("empty passphrase");
        return -EINVAL;
    }
    *ret = p;
    return 1;
}

/* ---- config ---- */

typedef struct config {
    vc_conf_t *conf;
    const char *listen;
    char **register_api;
    size_t n_register_api;
    const char *token;
    char **accounts;
    size_t n_accounts;
    char network;
} config_t;

static const char default_config[] = "[API]\n"
                                     "  ListenAddress = \"" WALLET_DEFAULT_LISTEN "\"\n"
                                     "\n"
                                     "[APIRegisterHub]\n"
                                     "  RegisterAPI = []\n"
                                     "  Token = \"\"\n"
                                     "  SupportAccounts = []\n"
                                     "\n"
                                     "[Wallet]\n"
                                     "  Network = \"mainnet\"\n";

static void config_done(config_t *c)
{
    free(c->register_api);
    free(c->accounts);
    vc_conf_free(c->conf);
    memset(c, 0, sizeof(*c));
}

static int config_load(const char *repo, config_t *c)
{
    _cleanup_free_ char *path = vc_path_join(repo, "config.toml");
    vc_conf_t *file = NULL;
    const char *net = NULL;
    int r;
    if (!path || !(c->conf = vc_conf_new()))
        return fail("out of memory");
    if ((r = vc_conf_parse(c->conf, "defaults", default_config, strlen(default_config))) < 0)
        return fail("%s", vc_conf_error(c->conf));
    if (access(path, F_OK) != 0) {
        if ((r = vc_write_file_atomic(path, default_config, strlen(default_config), 0600)) < 0)
            return fail("cannot write %s: %s", path, vc_strerror(r));
    } else {
        if (!(file = vc_conf_new()))
            return fail("out of memory");
        if (vc_conf_load(file, path) < 0 || vc_conf_merge(c->conf, file) < 0) {
            fail("%s", vc_conf_error(file));
            vc_conf_free(file);
            return 1;
        }
        vc_conf_free(file);
    }
    if (vc_conf_get_string(c->conf, "API.ListenAddress", WALLET_DEFAULT_LISTEN, &c->listen) < 0 ||
        vc_conf_get_string_array(c->conf, "APIRegisterHub.RegisterAPI", &c->register_api, &c->n_register_api) < 0 ||
        vc_conf_get_string(c->conf, "APIRegisterHub.Token", "", &c->token) < 0 ||
        vc_conf_get_string_array(c->conf, "APIRegisterHub.SupportAccounts", &c->accounts, &c->n_accounts) < 0 ||
        vc_conf_get_string(c->conf, "Wallet.Network", "mainnet", &net) < 0)
        return fail("config.toml: %s", vc_conf_error(c->conf));
    if (vc_streq(net, "mainnet") || vc_streq(net, "f"))
        c->network = 'f';
    else if (vc_streq(net, "testnet") || vc_streq(net, "t"))
        c->network = 't';
    else
        return fail("config.toml: Wallet.Network must be \"mainnet\" or \"testnet\", not '%s'", net);
    return 0;
}

static int verify_token(void *userdata, const char *token, vc_auth_info_t *ret)
{
    return vc_authn_verify(userdata, token, ret);
}

int wallet_cmd_run(vc_cli_ctx_t *ctx)
{
    _cleanup_free_ char *repo = wallet_repo_path(ctx);
    _cleanup_free_ char *ks_dir = NULL, *token_path = NULL, *api_path = NULL;
    config_t cfg = {0};
    wallet_ks_t *ks = NULL;
    vc_authn_t *authn = NULL;
    wallet_api_t *api = NULL;
    vc_http_server_t *http = NULL;
    wallet_gw_t *gw = NULL;
    char *pass = NULL;
    int rc = 1, r;

    if (!repo)
        return fail("out of memory");
    mallopt(M_ARENA_MAX, 2);
    if ((r = vc_mkdir_p(repo, 0700)) < 0)
        return fail("cannot create the repo %s: %s", repo, vc_strerror(r));
    if (config_load(repo, &cfg) != 0)
        goto out;
    const char *listen = vc_cli_is_set(ctx, "listen") ? vc_cli_string(ctx, "listen") : cfg.listen;
    size_t n_gw = cfg.n_register_api, n_acc = cfg.n_accounts;
    const char *const *gws = (const char *const *)cfg.register_api;
    const char *const *accs = (const char *const *)cfg.accounts;
    const char *gw_token = cfg.token;
    if (vc_cli_is_set(ctx, "gateway-api"))
        gws = vc_cli_strings(ctx, "gateway-api", &n_gw);
    if (vc_cli_is_set(ctx, "gateway-token"))
        gw_token = vc_cli_string(ctx, "gateway-token");
    if (vc_cli_is_set(ctx, "support-accounts"))
        accs = vc_cli_strings(ctx, "support-accounts", &n_acc);
    if (n_gw && vc_strempty(gw_token)) {
        rc = fail("APIRegisterHub.RegisterAPI is set but APIRegisterHub.Token is empty (the wallet's venus-auth token)");
        goto out;
    }

    ks_dir = vc_path_join(repo, "keystore");
    token_path = vc_path_join(repo, "token");
    api_path = vc_path_join(repo, "api");
    if (!ks_dir || !token_path || !api_path) {
        rc = fail("out of memory");
        goto out;
    }
    wallet_ks_opts_t ko = {.dir = ks_dir, .network = cfg.network};
    if ((r = wallet_ks_open(&ko, &ks)) < 0) {
        rc = fail("cannot open the keystore %s: %s", ks_dir, vc_strerror(r));
        goto out;
    }
    bool initialised = wallet_ks_initialised(ks);
    r = wallet_read_passphrase(ctx, !initialised, &pass);
    if (r < 0)
        goto out;
    if (r > 0) {
        r = wallet_ks_unlock(ks, pass, strlen(pass));
        wallet_passphrase_free(pass);
        pass = NULL;
        if (r < 0) {
            rc = fail("cannot unlock the keystore: %s", wallet_strerror(r));
            goto out;
        }
        vc_logkv(VC_LOG_NOTICE, "wallet", initialised ? "wallet unlocked" : "passphrase set, wallet unlocked", NULL);
    } else {
        vc_logkv(VC_LOG_NOTICE, "wallet",
                 initialised ? "starting locked: run `venus-wallet unlock`"
                             : "no keystore yet: run `venus-wallet unlock` to set the passphrase",
                 NULL);
    }

    vc_authn_opts_t ao = {.token_path = token_path};
    if ((r = vc_authn_new(&ao, &authn)) < 0) {
        rc = fail("cannot write %s: %s", token_path, vc_strerror(r));
        goto out;
    }
    if ((r = wallet_api_new(ks, authn, &api)) < 0) {
        rc = fail("%s", vc_strerror(r));
        goto out;
    }
    vc_http_opts_t ho = {.listen = listen, .threads = 4};
    if ((r = vc_http_server_new(&ho, &http)) < 0 || (r = wallet_api_mount(api, http)) < 0) {
        rc = fail("cannot serve on '%s': %s", listen, vc_strerror(r));
        goto out;
    }
    vc_http_set_auth(http, verify_token, authn);

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (n_gw) {
        wallet_gw_opts_t go = {.endpoints = gws, .n_endpoints = n_gw, .token = gw_token, .support_accounts = accs,
                               .n_accounts = n_acc};
        if ((r = wallet_gw_start(ks, &go, &gw)) < 0) {
            rc = fail("cannot start the gateway client: %s", vc_strerror(r));
            goto out;
        }
        wallet_ks_set_observer(ks, wallet_gw_address_changed, gw);
    }
    if ((r = vc_http_start(http)) < 0) {
        rc = fail("cannot listen on %s: %s", listen, r == -EADDRINUSE ? "address in use" : vc_strerror(r));
        goto out;
    }
    if (vc_write_file_atomic(api_path, vc_http_bound(http), strlen(vc_http_bound(http)), 0600) < 0)
        vc_warning("cannot write %s, ignoring", api_path);
    char ngw[16];
    snprintf(ngw, sizeof(ngw), "%zu", n_gw);
    vc_logkv(VC_LOG_NOTICE, "wallet", "venus-wallet serving", "listen", vc_http_bound(http), "repo", repo, "gateways",
             ngw, "version", WALLET_VERSION, NULL);

    int sig = 0;
    sigwait(&set, &sig);
    vc_logkv(VC_LOG_NOTICE, "wallet", "shutting down", "signal", sig == SIGINT ? "SIGINT" : "SIGTERM", NULL);
    rc = 0;
out:
    if (api_path)
        unlink(api_path);
    vc_http_server_free(http);
    if (ks)
        wallet_ks_set_observer(ks, NULL, NULL);
    wallet_gw_free(gw);
    wallet_api_free(api);
    vc_authn_free(authn);
    wallet_ks_free(ks);
    config_done(&cfg);
    return rc;
}

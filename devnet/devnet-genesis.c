/* devnet-genesis.c: genesis.toml parsing and validation. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>

#include "devnet-internal.h"
#include "vc/conf.h"
#include "vc/crypto.h"

#define GENESIS_MAX_ACCOUNTS 100000
#define GENESIS_MAX_MINERS 1000

void dn_genesis_done(dn_genesis_t *g)
{
    if (!g)
        return;
    free(g->accounts);
    free(g->miners);
    memset(g, 0, sizeof(*g));
}

/* Case-insensitive member (viper-style keys). */
static json_t *member(const json_t *o, const char *key)
{
    const char *k;
    json_t *v;

    if ((v = json_object_get(o, key)))
        return v;
    json_object_foreach((json_t *)o, k, v)
        if (strcasecmp(k, key) == 0)
            return v;
    return NULL;
}

static int get_str(const json_t *o, const char *key, const char **ret)
{
    json_t *v = member(o, key);
    if (!v) {
        *ret = NULL;
        return 0;
    }
    if (!json_is_string(v))
        return VC_ETYPE;
    *ret = json_string_value(v);
    return 1;
}

static int get_big(const json_t *o, const char *key, vc_bigint_t *ret)
{
    json_t *v = member(o, key);
    if (!v) {
        *ret = VC_BIGINT_ZERO;
        return 0;
    }
    if (json_is_integer(v)) {
        vc_bigint_from_i64(json_integer_value(v), ret);
        return 1;
    }
    if (!json_is_string(v))
        return VC_ETYPE;
    int r = vc_bigint_from_string(json_string_value(v), ret);
    return r < 0 ? r : 1;
}

static int get_u64(const json_t *o, const char *key, uint64_t def, uint64_t *ret)
{
    json_t *v = member(o, key);
    if (!v) {
        *ret = def;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return VC_ETYPE;
    *ret = (uint64_t)json_integer_value(v);
    return 1;
}

static int get_addr(const json_t *o, const char *key, vc_address_t *ret)
{
    const char *s;
    int r = get_str(o, key, &s);
    if (r <= 0)
        return r < 0 ? r : -ENOENT;
    return vc_address_from_string(s, ret);
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    return strndup(path, (size_t)(slash - path) + (slash == path));
}

static int load_key_file(const char *base, const char *file, vc_address_t *ret, char **err)
{
    _cleanup_free_ char *path = NULL, *text = NULL;
    vc_key_info_t ki;
    size_t len;
    int r;

    if (file[0] == '/')
        path = strdup(file);
    else if ((path = malloc(strlen(base) + strlen(file) + 2)))
        sprintf(path, "%s/%s", base, file);
    if (!path)
        return -ENOMEM;
    if ((r = vc_read_file(path, 64 * 1024, &text, &len)) < 0) {
        dn_set_err(err, "%s: %s", path, vc_strerror(r));
        return r;
    }
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' '))
        text[--len] = 0;
    if ((r = vc_key_info_import(text, &ki)) < 0) {
        dn_set_err(err, "%s: not a lotus key export: %s", path, vc_strerror(r));
        return r;
    }
    if (ki.type != VC_KEY_SECP256K1) {
        vc_key_info_wipe(&ki);
        dn_set_err(err, "%s: BLS key files are not supported (give Address instead)", path);
        return -EOPNOTSUPP;
    }
    r = vc_secp256k1_address(ki.key, ret);
    vc_key_info_wipe(&ki);
    if (r < 0)
        dn_set_err(err, "%s: invalid secp256k1 key", path);
    return r;
}

static bool is_key_addr(const vc_address_t *a)
{
    return !vc_address_is_undef(a) &&
           (vc_address_protocol(a) == VC_ADDR_SECP256K1 || vc_address_protocol(a) == VC_ADDR_BLS);
}

static int parse(vc_conf_t *conf, const char *path, dn_genesis_t *g, char **err)
{
    json_t *root = vc_conf_root(conf), *arr;
    const char *s;
    int64_t ms;
    uint64_t u;
    int r;

    if ((r = get_str(root, "NetworkName", &s)) < 0) {
        dn_set_err(err, "%s: NetworkName: expected a string", path);
        return r;
    }
    if (!s)
        s = "devnet";
    if (!*s || strlen(s) >= sizeof(g->network_name)) {
        dn_set_err(err, "%s: NetworkName: must be 1..%zu characters", path, sizeof(g->network_name) - 1);
        return -EINVAL;
    }
    strcpy(g->network_name, s);
    if ((r = vc_conf_get_duration_ms(conf, "BlockTime", 4000, &ms)) < 0 || ms < 10 || ms > 3600 * 1000) {
        dn_set_err(err, "%s: BlockTime: expected a duration between 10ms and 1h", path);
        return r < 0 ? r : -EINVAL;
    }
    g->block_time_ms = ms;
    if ((r = vc_conf_get_duration_ms(conf, "PropagationDelay", 1000, &ms)) < 0 || ms < 0 || ms > 3600 * 1000) {
        dn_set_err(err, "%s: PropagationDelay: expected a duration up to 1h", path);
        return r < 0 ? r : -EINVAL;
    }
    g->propagation_ms = ms;
    if ((r = get_u64(root, "Timestamp", 0, &u)) < 0 || u > INT64_MAX / 1000) {
        dn_set_err(err, "%s: Timestamp: expected unix seconds", path);
        return r < 0 ? r : -ERANGE;
    }
    g->timestamp = u;

    _cleanup_free_ char *base = dir_of(path);
    if (!base)
        return -ENOMEM;
    arr = member(root, "Accounts");
    if (arr && (!json_is_array(arr) || json_array_size(arr) > GENESIS_MAX_ACCOUNTS)) {
        dn_set_err(err, "%s: Accounts: expected an array of tables ([[Accounts]])", path);
        return VC_ETYPE;
    }
    size_t na = arr ? json_array_size(arr) : 0;
    g->accounts = calloc(na ? na : 1, sizeof(*g->accounts));
    if (!g->accounts)
        return -ENOMEM;
    for (size_t i = 0; i < na; i++) {
        json_t *o = json_array_get(arr, i);
        dn_genesis_account_t *a = &g->accounts[i];
        const char *kf;
        if (!json_is_object(o)) {
            dn_set_err(err, "%s: Accounts[%zu]: expected a table", path, i);
            return VC_ETYPE;
        }
        if ((r = get_str(o, "KeyFile", &kf)) < 0) {
            dn_set_err(err, "%s: Accounts[%zu].KeyFile: expected a string", path, i);
            return r;
        }
        if (kf) {
            if ((r = load_key_file(base, kf, &a->address, err)) < 0)
                return r;
        } else if ((r = get_addr(o, "Address", &a->address)) < 0) {
            dn_set_err(err, "%s: Accounts[%zu].Address: %s", path, i,
                       r == -ENOENT ? "missing (or give KeyFile)" : "not a valid address");
            return r == -ENOENT ? -EINVAL : r;
        }
        if (!is_key_addr(&a->address)) {
            dn_set_err(err, "%s: Accounts[%zu].Address: must be an f1 or f3 key address", path, i);
            return -EINVAL;
        }
        for (size_t k = 0; k < i; k++)
            if (vc_address_equal(&g->accounts[k].address, &a->address)) {
                dn_set_err(err, "%s: Accounts[%zu]: duplicate address", path, i);
                return -EINVAL;
            }
        if ((r = get_big(o, "Balance", &a->balance)) < 0 || vc_bigint_sign(&a->balance) < 0) {
            dn_set_err(err, "%s: Accounts[%zu].Balance: expected a non-negative integer (attoFIL)", path, i);
            return r < 0 ? r : -EINVAL;
        }
        g->n_accounts++;
    }

    arr = member(root, "Miners");
    if (!arr || !json_is_array(arr) || json_array_size(arr) == 0 || json_array_size(arr) > GENESIS_MAX_MINERS) {
        dn_set_err(err, "%s: Miners: at least one [[Miners]] table is required", path);
        return -EINVAL;
    }
    size_t nm = json_array_size(arr);
    g->miners = calloc(nm, sizeof(*g->miners));
    if (!g->miners)
        return -ENOMEM;
    for (size_t i = 0; i < nm; i++) {
        json_t *o = json_array_get(arr, i);
        dn_genesis_miner_t *m = &g->miners[i];
        if (!json_is_object(o)) {
            dn_set_err(err, "%s: Miners[%zu]: expected a table", path, i);
            return VC_ETYPE;
        }
        if ((r = get_u64(o, "ID", 0, &m->id)) <= 0 || m->id < DN_FIRST_ACCOUNT_ID || m->id > INT64_MAX) {
            dn_set_err(err, "%s: Miners[%zu].ID: expected an integer >= %d", path, i, DN_FIRST_ACCOUNT_ID);
            return -EINVAL;
        }
        for (size_t k = 0; k < i; k++)
            if (g->miners[k].id == m->id) {
                dn_set_err(err, "%s: Miners[%zu].ID: duplicate %" PRIu64, path, i, m->id);
                return -EINVAL;
            }
        if ((r = get_addr(o, "Owner", &m->owner)) < 0 || !is_key_addr(&m->owner)) {
            dn_set_err(err, "%s: Miners[%zu].Owner: expected an f1/f3 address", path, i);
            return -EINVAL;
        }
        if ((r = get_addr(o, "Worker", &m->worker)) == -ENOENT)
            m->worker = m->owner;
        else if (r < 0 || !is_key_addr(&m->worker)) {
            dn_set_err(err, "%s: Miners[%zu].Worker: expected an f1/f3 address", path, i);
            return -EINVAL;
        }
        bool owner_known = false;
        for (size_t k = 0; k < g->n_accounts; k++)
            owner_known |= vc_address_equal(&g->accounts[k].address, &m->owner);
        if (!owner_known) {
            dn_set_err(err, "%s: Miners[%zu].Owner: must also be listed in [[Accounts]]", path, i);
            return -EINVAL;
        }
        if ((r = get_big(o, "Power", &m->power)) <= 0 || vc_bigint_sign(&m->power) <= 0) {
            dn_set_err(err, "%s: Miners[%zu].Power: expected a positive integer (bytes)", path, i);
            return -EINVAL;
        }
        if ((r = get_u64(o, "Sectors", 2, &m->sectors)) < 0 || m->sectors == 0 || m->sectors > 1000000) {
            dn_set_err(err, "%s: Miners[%zu].Sectors: expected 1..1000000", path, i);
            return -EINVAL;
        }
        if ((r = get_u64(o, "SectorSize", 2048, &m->sector_size)) < 0 || m->sector_size == 0) {
            dn_set_err(err, "%s: Miners[%zu].SectorSize: expected a positive integer", path, i);
            return -EINVAL;
        }
        g->n_miners++;
    }
    /* Miner IDs must not collide with the IDs genesis accounts receive (100, 101, ...). */
    for (size_t i = 0; i < g->n_miners; i++)
        if (g->miners[i].id < DN_FIRST_ACCOUNT_ID + g->n_accounts + g->n_miners) {
            dn_set_err(err, "%s: Miners[%zu].ID: f0%" PRIu64 " is in the account ID range (use >= %zu, e.g. 1000)",
                       path, i, g->miners[i].id, DN_FIRST_ACCOUNT_ID + g->n_accounts + g->n_miners);
            return -EINVAL;
        }
    return 0;
}

int dn_genesis_load(const char *path, dn_genesis_t *ret, char **err)
{
    _cleanup_(vc_conf_freep) vc_conf_t *conf = vc_conf_new();
    dn_genesis_t g = {0};
    int r;

    if (!conf)
        return -ENOMEM;
    if ((r = vc_conf_load(conf, path)) < 0) {
        dn_set_err(err, "%s", vc_conf_error(conf));
        return r;
    }
    if ((r = parse(conf, path, &g, err)) < 0) {
        dn_genesis_done(&g);
        return r;
    }
    *ret = g;
    return 0;
}

/* fuzz-rpc: arbitrary bytes as a JSON-RPC HTTP body (single requests and batches). */
#include <stdint.h>
#include <stdlib.h>

#include "vc/rpc.h"
#include "vc/util.h"

static int m_echo(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    *ret = json_incref(json_array_get(params, 0));
    return 0;
}

static int m_fail(vc_rpc_call_t *call, json_t *params, json_t **ret)
{
    return vc_rpc_error(call, 1, "failed: %s", json_is_string(json_array_get(params, 0)) ? json_string_value(json_array_get(params, 0)) : "?");
}

static const vc_rpc_method_t methods[] = {
    {"F.Echo", VC_PERM_READ, 1, m_echo, 0},
    {"F.Fail", VC_PERM_WRITE, 1, m_fail, 0},
    {"F.Admin", VC_PERM_ADMIN, 0, m_echo, 0},
    {"F.Chan", VC_PERM_READ, 0, m_echo, VC_RPC_CHANNEL},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static vc_rpc_server_t *s;
    if (!s) {
        vc_init();
        if (vc_rpc_server_new(NULL, &s) < 0 || vc_rpc_register(s, methods, 4) < 0)
            abort();
    }
    vc_auth_info_t auth = {.perms = VC_PERM_READ | VC_PERM_WRITE};
    char *out = NULL;
    int status = 0;
    int r = vc_rpc_handle_text(s, (const char *)data, size, &auth, &out, &status);
    if (r == 0 && out) {
        /* every answer is valid JSON */
        json_error_t e;
        json_t *j = json_loads(out, 0, &e);
        if (!j)
            abort();
        json_decref(j);
    }
    if (r == 0 && status != 200 && status != 400 && status != 500)
        abort();
    free(out);
    return 0;
}

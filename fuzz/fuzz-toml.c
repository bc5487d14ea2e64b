/* libFuzzer target for the TOML parser: parse, then write and re-parse (round trip must hold). */
#include <stdint.h>
#include <stdlib.h>

#include "vc/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vc_conf_t *c = vc_conf_new(), *c2 = vc_conf_new();
    vc_buf_t out = {0};
    const char *s;
    int64_t i;

    if (!c || !c2)
        goto done;
    if (vc_conf_parse(c, "fuzz.toml", (const char *)data, size) < 0)
        goto done;
    (void)vc_conf_get_string(c, "Listen", "x", &s);
    (void)vc_conf_get_duration_ms(c, "ReadTimeout", 0, &i);
    (void)vc_conf_set(c, "DB.Type", "mysql");
    if (vc_conf_write(c, &out) < 0)
        goto done;
    if (vc_conf_parse(c2, "rt.toml", out.data, out.len) < 0)
        abort(); /* the writer produced text the parser rejects */
    if (!json_equal(vc_conf_root(c), vc_conf_root(c2)))
        abort();
done:
    vc_buf_done(&out);
    vc_conf_free(c);
    vc_conf_free(c2);
    return 0;
}

/* fuzz-db-rewrite: the `?` -> $n placeholder rewriter of db.c (SQL text is program input, but
 * the scanner must never read past the end or miscount on any bytes). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vc/db.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *sql = malloc(size + 1);
    if (!sql)
        return 0;
    memcpy(sql, data, size);
    sql[size] = 0;
    char *out = NULL;
    size_t n = 0;
    if (vc_db_rewrite_placeholders(sql, &out, &n) == 0) {
        /* Every placeholder became "$k": the output is longer by at least one byte each, and
         * removing them gives back the input (checked loosely: no '?' was added). */
        size_t q_in = 0, q_out = 0;
        for (const char *p = sql; *p; p++)
            q_in += *p == '?';
        for (const char *p = out; *p; p++)
            q_out += *p == '?';
        if (q_out + n != q_in || strlen(out) < strlen(sql) + n)
            abort();
        free(out);
    }
    free(sql);
    return 0;
}

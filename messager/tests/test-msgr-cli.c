/*
 * Tests for msgr-cli.c: every client command against a stand-in venus-messager (vc_http serving
 * /rpc/v0 with canned, spec-shaped JSON-RPC answers) to check the exact params each sends and the
 * exact output; bad input fails with one ERROR line before any request.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "msgr-cli.h"
#include "vc-test.h"
#include "vc/http.h"
#include "vc/util.h"

#define F1 "f1ct6utqzrhuyo552pw7er3jjctxoo6bpklbvyvpi"
#define T1 "t1ct6utqzrhuyo552pw7er3jjctxoo6bpklbvyvpi"
#define CID1 "bafy2bzaceadopdn47ajkfakq3g4kvwsdtnlvnlryv7mfiognzd3oxgubx46ee"
#define CID2 "bafy2bzacece2h7dpavuhrarfdpogjuyqjffjvimzyqhc2wih6b473orcaobz6"

static const vc_cli_flag_t root_flags[] = {
    {"repo", NULL, VC_FLAG_STRING, "repo path", "~/.venus-messager", "VENUS_MESSAGER_PATH"},
    {0},
};
static const vc_cli_cmd_t root = {.name = "venus-messager", .flags = root_flags, .subcommands = msgr_client_cmds};

typedef struct res {
    int rc;
    char out[1 << 17]; /* list-builtin-actors prints ~50 kB */
    char err[4096];
} res_t;
static res_t R;

static int cli(const char *a0, ...)
{
    char *argv[40] = {(char *)"venus-messager"};
    int argc = 1;
    va_list ap;
    va_start(ap, a0);
    for (const char *a = a0; a && argc < 39; a = va_arg(ap, const char *))
        argv[argc++] = (char *)a;
    va_end(ap);
    char *ob = NULL, *eb = NULL;
    size_t on = 0, en = 0;
    FILE *out = open_memstream(&ob, &on), *err = open_memstream(&eb, &en);
    R.rc = vc_cli_run(&root, argc, argv, NULL, out, err);
    fclose(out);
    fclose(err);
    snprintf(R.out, sizeof(R.out), "%s", ob ? ob : "");
    snprintf(R.err, sizeof(R.err), "%s", eb ? eb : "");
    free(ob);
    free(eb);
    return R.rc;
}

/* ---- stand-in daemon ---- */

typedef struct canned {
    const char *method; /* without "Message." (other namespaces: the full name) */
    const char *result; /* JSON text, or NULL with error */
    const char *error;
} canned_t;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static canned_t answers[16];
static size_t n_answers;
static char calls[8192]; /* "Method params\n" per request, params compact */

static void expect(const char *method, const char *result)
{
    pthread_mutex_lock(&lock);
    answers[n_answers++] = (canned_t){method, result, NULL};
    pthread_mutex_unlock(&lock);
}

static void expect_err(const char *method, const char *error)
{
    pthread_mutex_lock(&lock);
    answers[n_answers++] = (canned_t){method, NULL, error};
    pthread_mutex_unlock(&lock);
}

static void reset(void)
{
    pthread_mutex_lock(&lock);
    n_answers = 0;
    calls[0] = 0;
    pthread_mutex_unlock(&lock);
}

static int handler(vc_http_request_t *req, vc_http_response_t *resp, void *userdata)
{
    (void)userdata;
    json_t *j = json_loadb(req->body, req->body_len, 0, NULL);
    const char *m = json_string_value(json_object_get(j, "method"));
    vc_buf_t pb = {0}, out = {0};
    int r;
    pthread_mutex_lock(&lock);
    vc_json_format_go(&pb, json_object_get(j, "params"), NULL, NULL);
    size_t n = strlen(calls);
    snprintf(calls + n, sizeof(calls) - n, "%s %.*s\n", m ? m : "?", (int)pb.len, pb.data ? pb.data : "");
    const canned_t *c = NULL;
    for (size_t i = 0; m && i < n_answers; i++)
        if (vc_streq(answers[i].method, strncmp(m, "Message.", 8) == 0 ? m + 8 : m)) {
            c = &answers[i];
            answers[i].method = ""; /* used once */
            break;
        }
    vc_buf_appendf(&out, "{\"jsonrpc\":\"2.0\",\"id\":%" JSON_INTEGER_FORMAT ",",
                   json_integer_value(json_object_get(j, "id")));
    if (!c)
        vc_buf_appendf(&out, "\"error\":{\"code\":-32601,\"message\":\"method '%s' not found\"}}", m ? m : "");
    else if (c->error)
        vc_buf_appendf(&out, "\"error\":{\"code\":1,\"message\":\"%s\"}}", c->error);
    else
        vc_buf_appendf(&out, "\"result\":%s}", c->result);
    pthread_mutex_unlock(&lock);
    r = vc_http_reply_json(resp, 200, out.data);
    vc_buf_done(&pb);
    vc_buf_done(&out);
    json_decref(j);
    return r;
}

static int auth(void *userdata, const char *token, vc_auth_info_t *ret)
{
    (void)userdata;
    if (!vc_streq(token, "admin-token"))
        return VC_EVERIFY;
    memset(ret, 0, sizeof(*ret));
    snprintf(ret->name, sizeof(ret->name), "defaultLocalToken");
    snprintf(ret->perm, sizeof(ret->perm), "admin");
    ret->perms = vc_perm_expand("admin");
    return 0;
}

static vc_http_server_t *srv;
static char repo[512];

static int srv_start(void)
{
    vc_http_opts_t o = {.listen = "127.0.0.1:0", .threads = 1};
    char path[1300];
    int r = vc_http_server_new(&o, &srv);
    if (r >= 0)
        r = vc_http_route(srv, "POST", "/rpc/v0", 0, handler, NULL);
    if (r >= 0) /* the node, for the commands that ask it (list-builtin-actors) */
        r = vc_http_route(srv, "POST", "/rpc/v1", 0, handler, NULL);
    if (r < 0)
        return r;
    vc_http_set_auth(srv, auth, NULL);
    if ((r = vc_http_start(srv)) < 0)
        return r;
    snprintf(repo, sizeof(repo), "%s/repo", vc_test_tmpdir());
    if ((r = vc_mkdir_p(repo, 0700)) < 0)
        return r;
    snprintf(path, sizeof(path), "%s/token", repo);
    if ((r = vc_write_file_atomic(path, "admin-token\n", 12, 0600)) < 0)
        return r;
    char toml[512];
    snprintf(toml, sizeof(toml), "[node]\n  url = \"http://%s\"\n  token = \"admin-token\"\n",
             vc_http_bound(srv));
    snprintf(path, sizeof(path), "%s/config.toml", repo);
    if ((r = vc_write_file_atomic(path, toml, strlen(toml), 0600)) < 0)
        return r;
    snprintf(path, sizeof(path), "%s/api", repo);
    return vc_write_file_atomic(path, vc_http_bound(srv), strlen(vc_http_bound(srv)), 0600);
}

#define RUN(...) cli("--repo", repo, __VA_ARGS__, NULL)

/* A message as the daemon sends it (spec 3.1). */
#define MSG(id, value, state, exitcode, errmsg)                                                                    \
    "{\"ID\":\"" id "\",\"UnsignedCid\":{\"/\":\"" CID1 "\"},\"SignedCid\":{\"/\":\"" CID2 "\"},\"Version\":0,"    \
    "\"To\":\"f01000\",\"From\":\"" F1 "\",\"Nonce\":42,\"Value\":\"" value "\",\"GasLimit\":123,"                 \
    "\"GasFeeCap\":\"100\",\"GasPremium\":\"10\",\"Method\":5,\"Params\":\"AAE=\",\"Signature\":null,"           \
    "\"Height\":100,\"Confidence\":10,\"Receipt\":{\"ExitCode\":" exitcode ",\"Return\":\"aGk=\",\"GasUsed\":9,"  \
    "\"EventsRoot\":null},\"TipSetKey\":[{\"/\":\"" CID1 "\"},{\"/\":\"" CID2 "\"}],"                             \
    "\"Meta\":{\"expireEpoch\":0,\"gasOverEstimation\":1.25,\"maxFee\":\"0\",\"gasOverPremium\":0},"              \
    "\"WalletName\":\"defaultLocalToken\",\"State\":" state ",\"ErrorMsg\":\"" errmsg "\","                     \
    "\"CreatedAt\":\"2021-03-30T17:02:32.347018+08:00\",\"UpdatedAt\":\"2021-03-30T17:02:33+08:00\"}"

static void test_msg_list(void)
{
    reset();
    expect("ListMessageByFromState",
           "[" MSG("b5a0c1e2-3f4a-4b5c-8d6e-7f8091a2b3c4", "1500000000000000000", "3", "0", "") "," MSG(
               "x", "0", "1", "-1", "gas estimate: boom") "]");
    ASSERT_EQ(RUN("msg", "list", "--from", T1, "--state", "3", "-t", "1h", "--page-size", "10"), 0);
    ASSERT_STREQ(calls, "Message.ListMessageByFromState [\"" F1 "\",3,false,1,10,3600000000000]\n");
    ASSERT_STREQ(R.out,
                 "ID                                    To      From          Nonce  Value      GasLimit  GasFeeCap  "
                 "GasPremium  Method  State       ExitCode  CreateAt             ErrorMsg            \n"
                 "b5a0c1e2-3f4a-4b5c-8d6e-7f8091a2b3c4  f01000  f1ct6utqz...  42     1.5 FI...  123       100        "
                 "10          5       OnChainMsg  Ok(0)     2021-03-30 17:02:32                      \n"
                 "x                                     f01000  f1ct6utqz...  42     0 FIL      123       100        "
                 "10          5       UnFillMsg   -1        2021-03-30 17:02:32  gas estimate: boom  \n"
                 "\n");
    ASSERT_STREQ(R.err, "");

    /* empty list: Go's tablewriter drops every column */
    reset();
    expect("ListMessageByFromState", "null");
    ASSERT_EQ(RUN("msg", "list"), 0);
    ASSERT_STREQ(calls, "Message.ListMessageByFromState [\"\\u003cempty\\u003e\",1,false,1,100,0]\n");
    ASSERT_STREQ(R.out, "\n\n");

    /* JSON: the display struct, prefix " " */
    reset();
    expect("ListMessageByFromState", "[" MSG("id1", "1", "3", "0", "") "]");
    ASSERT_EQ(RUN("msg", "list", "--output-type", "json"), 0);
    ASSERT_STREQ(R.out, "[\n"
                        " \t{\n"
                        " \t\t\"ID\": \"id1\",\n"
                        " \t\t\"UnsignedCid\": {\n \t\t\t\"/\": \"" CID1 "\"\n \t\t},\n"
                        " \t\t\"SignedCid\": {\n \t\t\t\"/\": \"" CID2 "\"\n \t\t},\n"
                        " \t\t\"Msg\": {\n"
                        " \t\t\t\"Version\": 0,\n"
                        " \t\t\t\"To\": \"f01000\",\n"
                        " \t\t\t\"From\": \"" F1 "\",\n"
                        " \t\t\t\"Nonce\": 42,\n"
                        " \t\t\t\"Value\": \"1\",\n"
                        " \t\t\t\"GasLimit\": 123,\n"
                        " \t\t\t\"GasFeeCap\": \"100\",\n"
                        " \t\t\t\"GasPremium\": \"10\",\n"
                        " \t\t\t\"Method\": \"5\",\n"
                        " \t\t\t\"Params\": \"AAE=\"\n"
                        " \t\t},\n"
                        " \t\t\"Signature\": null,\n"
                        " \t\t\"Height\": 100,\n"
                        " \t\t\"Confidence\": 10,\n"
                        " \t\t\"Receipt\": {\n"
                        " \t\t\t\"ExitCode\": 0,\n"
                        " \t\t\t\"Return\": \"hi\",\n"
                        " \t\t\t\"GasUsed\": 9\n"
                        " \t\t},\n"
                        " \t\t\"TipSetKey\": [\n \t\t\t{\n \t\t\t\t\"/\": \"" CID1 "\"\n \t\t\t},\n"
                        " \t\t\t{\n \t\t\t\t\"/\": \"" CID2 "\"\n \t\t\t}\n \t\t],\n"
                        " \t\t\"Meta\": {\n"
                        " \t\t\t\"expireEpoch\": 0,\n"
                        " \t\t\t\"gasOverEstimation\": 1.25,\n"
                        " \t\t\t\"maxFee\": \"0\",\n"
                        " \t\t\t\"gasOverPremium\": 0\n"
                        " \t\t},\n"
                        " \t\t\"WalletName\": \"defaultLocalToken\",\n"
                        " \t\t\"ErrorMsg\": \"\",\n"
                        " \t\t\"State\": \"OnChainMsg\",\n"
                        " \t\t\"UpdatedAt\": \"2021-03-30T17:02:33+08:00\",\n"
                        " \t\t\"CreatedAt\": \"2021-03-30T17:02:32.347018+08:00\"\n"
                        " \t}\n"
                        " ]\n");

    /* bad input: nothing is sent */
    reset();
    ASSERT_EQ(RUN("msg", "list", "--from", "f1nope"), 1);
    ASSERT_STREQ(R.err, "ERROR: --from: invalid address 'f1nope'\n");
    ASSERT_EQ(RUN("msg", "list", "--time", "3x"), 1);
    ASSERT_STREQ(R.err, "ERROR: --time: '3x' is not a duration (e.g. 3s, 3m, 3h)\n");
    ASSERT_EQ(RUN("msg", "list", "--page-index", "0"), 1);
    ASSERT_STREQ(R.err, "ERROR: --page-index: 0 must be at least 1\n");
    ASSERT_EQ(RUN("msg", "list", "--state", "abc"), 1);
    ASSERT_STREQ(calls, "");
}

static void test_msg_lists_other(void)
{
    reset();
    expect("ListFailedMessage", "[" MSG("a", "0", "1", "-1", "e1") "]");
    ASSERT_EQ(RUN("msg", "list-fail", "--from", "f01234", "-v"), 0);
    ASSERT_STREQ(calls, "Message.ListFailedMessage []\n");
    ASSERT_STREQ(R.out, "\n\n"); /* filtered out client-side */

    reset();
    expect("ListBlockedMessage", "[]");
    ASSERT_EQ(RUN("msg", "list-blocked", "--from", F1), 0);
    ASSERT_STREQ(calls, "Message.ListBlockedMessage [\"" F1 "\",10800000000000]\n");

    reset();
    expect("GetMessageByUid", MSG("id1", "1", "3", "0", ""));
    ASSERT_EQ(RUN("msg", "search", "--id", "id1"), 0);
    ASSERT_STREQ(calls, "Message.GetMessageByUid [\"id1\"]\n");
    static const char head[] = "- message information:\n{\n\t\"ID\": \"id1\",\n";
    ASSERT_TRUE(strncmp(R.out, head, strlen(head)) == 0);
    ASSERT_TRUE(strstr(R.out, "\t\"State\": \"OnChainMsg\",\n") != NULL);
    ASSERT_EQ(RUN("msg", "search"), 1);
    ASSERT_STREQ(R.err, "ERROR: value of query must be entered (--id or --cid)\n");
    ASSERT_EQ(RUN("msg", "search", "--cid", "zzz"), 1);
    ASSERT_STREQ(R.err, "ERROR: --cid: 'zzz' is not a CID\n");

    reset();
    expect_err("GetMessageByUid", "get message by id error: record not found");
    ASSERT_EQ(RUN("msg", "search", "--id", "nope"), 1);
    ASSERT_STREQ(R.err, "ERROR: get message by id error: record not found\n");
}

static void test_msg_ops(void)
{
    reset();
    expect("WaitMessage", MSG("id1", "1", "3", "0", ""));
    ASSERT_EQ(RUN("msg", "wait", "id1"), 0);
    ASSERT_STREQ(calls, "Message.WaitMessage [\"id1\",5]\n");
    ASSERT_STREQ(R.out, "message cid  " CID2 "\nHeight: 100\nTipset: { " CID1 " " CID2
                        " }\nexitcode: Ok(0)\ngas_used: 9\nreturn_value: hi\n");
    ASSERT_EQ(RUN("msg", "wait"), 1);
    ASSERT_TRUE(strncmp(R.err, "Incorrect Usage: ", 17) == 0);

    reset();
    expect("GetMessageByFromAndNonce", MSG("id7", "1", "2", "-1", ""));
    expect("ReplaceMessage", "{\"/\":\"" CID1 "\"}");
    ASSERT_EQ(RUN("msg", "replace", "--auto", "--max-fee", "0.5", "--gas-over-premium", "1.5", T1, "7"), 0);
    ASSERT_STREQ(calls, "Message.GetMessageByFromAndNonce [\"" F1 "\",7]\n"
                        "Message.ReplaceMessage [{\"ID\":\"id7\",\"Auto\":true,\"MaxFee\":\"500000000000000000\","
                        "\"GasLimit\":0,\"GasPremium\":\"0\",\"GasFeecap\":\"0\",\"GasOverPremium\":1.5}]\n");
    ASSERT_STREQ(R.out, "new message cid:  " CID1 "\n");
    reset();
    ASSERT_EQ(RUN("msg", "replace", "--gas-premium", "-1", "id"), 1);
    ASSERT_STREQ(R.err, "ERROR: --gas-premium: '-1' must not be negative\n");
    ASSERT_EQ(RUN("msg", "replace", "--max-fee", "1.2.3", "id"), 1);
    ASSERT_STREQ(R.err, "ERROR: --max-fee: '1.2.3' is not a FIL amount\n");
    ASSERT_EQ(RUN("msg", "replace", F1, "x"), 1);
    ASSERT_STREQ(R.err, "ERROR: nonce: 'x' is not an unsigned integer\n");
    ASSERT_EQ(RUN("msg", "replace"), 1);
    ASSERT_STREQ(calls, "");

    reset();
    expect("MarkBadMessage", "null");
    expect_err("MarkBadMessage", "record not found");
    ASSERT_EQ(RUN("msg", "mark-bad", "--really-do-it", "a", "b"), 0);
    ASSERT_STREQ(R.out, "mark msg a as bad successful\nmark msg b as bad failed: record not found\n");
    ASSERT_EQ(RUN("msg", "mark-bad", "a"), 1);
    ASSERT_STREQ(R.err, "ERROR: confirm to exec this command, specify --really-do-it\n");

    reset();
    expect("ListMessageByAddress", "[" MSG("u1", "0", "1", "-1", "gas estimate: x") "," MSG("u2", "0", "1", "-1", "") "]");
    expect("MarkBadMessage", "null");
    ASSERT_EQ(RUN("msg", "mark-bad", "--really-do-it", "--from", F1), 0);
    ASSERT_STREQ(calls, "Message.ListMessageByAddress [\"" F1 "\"]\nMessage.MarkBadMessage [\"u1\"]\n");

    reset();
    expect("ClearUnFillMessage", "3");
    ASSERT_EQ(RUN("msg", "clear-unfill-msg", "--really-do-it", F1), 0);
    ASSERT_STREQ(R.out, "It will take dozens of seconds.\nclear 3 unfill messages \n");

    reset();
    expect("RecoverFailedMsg", "[\"a\",\"b\"]");
    ASSERT_EQ(RUN("msg", "recover-failed-msg", "--really-do-it", "--from", F1), 0);
    ASSERT_STREQ(R.out, "recover failed messages success: [a b] \n");

    reset();
    expect("GetMessageByUid", MSG("f", "0", "4", "-1", ""));
    expect("UpdateMessageStateByID", "null");
    ASSERT_EQ(RUN("msg", "recover-failed-msg", "--really-do-it", "f"), 0);
    ASSERT_STREQ(calls, "Message.GetMessageByUid [\"f\"]\nMessage.UpdateMessageStateByID [\"f\",1]\n");
    ASSERT_STREQ(R.out, "recover msg f success, current state: Failed, after recover msg state: UnFillMsg\n");

    reset();
    expect("GetMessageByUid", MSG("f", "0", "4", "-1", ""));
    expect("UpdateMessageStateByID", "null");
    ASSERT_EQ(RUN("msg", "update-state", "--really-do-it", "--id", "f", "--state", "2"), 0);
    ASSERT_STREQ(R.out, "update message(id=f) state to FillMsg success\n");
    reset();
    expect("GetMessageByUid", MSG("f", "0", "4", "-1", ""));
    ASSERT_EQ(RUN("msg", "update-state", "--really-do-it", "--id", "f", "--state", "4"), 1);
    ASSERT_STREQ(R.err, "ERROR: the state has not changed, no need to update\n");
    ASSERT_EQ(RUN("msg", "update-state", "--really-do-it", "--id", "f", "--state", "9"), 1);
    ASSERT_TRUE(strncmp(R.err, "ERROR: --state: 9 is not a message state", 40) == 0);

    reset();
    expect("GetMessageBySignedCid", MSG("s1", "0", "2", "-1", ""));
    expect("UpdateFilledMessageByID", "\"s1\"");
    ASSERT_EQ(RUN("msg", "update-filled-msg", "--s_cid", CID2), 0);
    ASSERT_STREQ(calls, "Message.GetMessageBySignedCid [{\"/\":\"" CID2 "\"}]\n"
                        "Message.UpdateFilledMessageByID [\"s1\"]\n");
    ASSERT_STREQ(R.out, "");

    reset();
    expect("UpdateAllFilledMessage", "12");
    ASSERT_EQ(RUN("msg", "update-all-filled-msg"), 0);
    ASSERT_STREQ(R.out, "update message count: 12\n");

    reset();
    expect("RepublishMessage", "null");
    ASSERT_EQ(RUN("msg", "republish", "r1"), 0);
    ASSERT_STREQ(calls, "Message.RepublishMessage [\"r1\"]\n");
}

#define ADDR_JSON                                                                                                  \
    "{\"id\":\"0f0e0d0c-0b0a-4908-8706-050403020100\",\"addr\":\"" F1 "\",\"nonce\":7,\"weight\":0,\"state\":1,"   \
    "\"selMsgNum\":0,\"gasOverEstimation\":0,\"maxFee\":\"0\",\"gasFeeCap\":\"0\",\"gasOverPremium\":0,"          \
    "\"baseFee\":\"0\",\"isDeleted\":-1,\"createAt\":\"2021-03-30T17:02:32+08:00\","                              \
    "\"updateAt\":\"2021-03-30T17:02:32+08:00\"}"

static void test_address(void)
{
    reset();
    expect("GetAddress", ADDR_JSON);
    ASSERT_EQ(RUN("address", "search", T1), 0);
    ASSERT_STREQ(calls, "Message.GetAddress [\"" F1 "\"]\n");
    ASSERT_STREQ(R.out, "{\n \t\"id\": \"0f0e0d0c-0b0a-4908-8706-050403020100\",\n \t\"addr\": \"" F1 "\",\n"
                        " \t\"nonce\": 7,\n \t\"weight\": 0,\n \t\"state\": 1,\n \t\"selMsgNum\": 0,\n"
                        " \t\"gasOverEstimation\": 0,\n \t\"maxFee\": \"0\",\n \t\"gasFeeCap\": \"0\",\n"
                        " \t\"gasOverPremium\": 0,\n \t\"baseFee\": \"0\",\n \t\"isDeleted\": -1,\n"
                        " \t\"createAt\": \"2021-03-30T17:02:32+08:00\",\n"
                        " \t\"updateAt\": \"2021-03-30T17:02:32+08:00\"\n }\n");

    reset();
    expect("ListAddress", "null");
    ASSERT_EQ(RUN("address", "list"), 0);
    ASSERT_STREQ(R.out, "null\n");

    reset();
    expect("HasAddress", "true");
    expect("ForbiddenAddress", "null");
    ASSERT_EQ(RUN("address", "forbidden", F1), 0);
    ASSERT_STREQ(R.out, "forbidden address success!\n");
    reset();
    expect("HasAddress", "false");
    ASSERT_EQ(RUN("address", "active", F1), 1);
    ASSERT_STREQ(R.err, "ERROR: address not exist\n");

    reset();
    expect("SetSelectMsgNum", "null");
    ASSERT_EQ(RUN("address", "set-sel-msg-num", "--num", "30", F1), 0);
    ASSERT_STREQ(calls, "Message.SetSelectMsgNum [\"" F1 "\",30]\n");
    ASSERT_EQ(RUN("address", "set-sel-msg-num", F1), 1);
    ASSERT_STREQ(R.err, "Required flag \"num\" not set\n");

    reset();
    expect("SetFeeParams", "null");
    ASSERT_EQ(RUN("address", "set-fee-params", "--gas-overestimation", "1.5", "--max-fee", "1000", F1), 0);
    ASSERT_STREQ(calls, "Message.SetFeeParams [{\"address\":\"" F1 "\",\"gasOverEstimation\":1.5,"
                        "\"gasOverPremium\":0,\"maxFeeStr\":\"1000\",\"gasFeeCapStr\":\"\",\"baseFeeStr\":\"\"}]\n");
    reset();
    ASSERT_EQ(RUN("address", "set-fee-params", "--gas-feecap", "12abc", F1), 1);
    ASSERT_STREQ(R.err, "ERROR: --gas-feecap: '12abc' is not a decimal attoFIL amount\n");
    ASSERT_EQ(RUN("address", "set-fee-params", "--gas-overestimation", "x", F1), 1);
    ASSERT_STREQ(R.err, "ERROR: --gas-overestimation: 'x' is not a number\n");
    ASSERT_EQ(RUN("address", "del", "bad"), 1);
    ASSERT_STREQ(R.err, "ERROR: address: invalid address 'bad'\n");
    ASSERT_STREQ(calls, "");
}

static void test_share_node_log_send(void)
{
    static const char shared[] = "{\"id\":1,\"selMsgNum\":20,\"gasOverEstimation\":1.25,\"maxFee\":\"70000000000000000\","
                                 "\"gasFeeCap\":\"0\",\"gasOverPremium\":0,\"baseFee\":\"0\"}";
    reset();
    expect("GetSharedParams", shared);
    ASSERT_EQ(RUN("share-params", "get"), 0);
    ASSERT_STREQ(R.out, "{\n\t\"id\": 1,\n\t\"selMsgNum\": 20,\n\t\"gasOverEstimation\": 1.25,\n"
                        "\t\"maxFee\": \"70000000000000000\",\n\t\"gasFeeCap\": \"0\",\n\t\"gasOverPremium\": 0,\n"
                        "\t\"baseFee\": \"0\"\n}\n");
    reset();
    expect("GetSharedParams", shared);
    expect("SetSharedParams", "null");
    ASSERT_EQ(RUN("share-params", "set", "--sel-msg-num", "50", "--base-fee", "100"), 0);
    ASSERT_STREQ(calls, "Message.GetSharedParams []\nMessage.SetSharedParams [{\"id\":1,\"selMsgNum\":50,"
                        "\"gasOverEstimation\":1.25,\"maxFee\":\"70000000000000000\",\"gasFeeCap\":\"0\","
                        "\"gasOverPremium\":0,\"baseFee\":\"100\"}]\n");

    reset();
    expect("HasNode", "false");
    expect("SaveNode", "null");
    ASSERT_EQ(RUN("node", "add", "--name", "n1", "--url", "/ip4/127.0.0.1/tcp/3453", "--token", "tk"), 0);
    ASSERT_TRUE(strstr(calls, "Message.HasNode [\"n1\"]\nMessage.SaveNode [{\"ID\":\"") == calls);
    ASSERT_TRUE(strstr(calls, "\"Name\":\"n1\",\"URL\":\"/ip4/127.0.0.1/tcp/3453\",\"Token\":\"tk\",\"Type\":1,") !=
                NULL);
    reset();
    ASSERT_EQ(RUN("node", "add", "--name", "n1", "--token", "tk"), 1);
    ASSERT_STREQ(R.err, "ERROR: url cannot be empty\n");
    reset();
    expect("HasNode", "true");
    ASSERT_EQ(RUN("node", "add", "--name", "n1", "--url", "u", "--token", "tk"), 1);
    ASSERT_STREQ(R.err, "ERROR: node exist\n");
    reset();
    expect("ListNode", "[{\"ID\":\"0f0e0d0c-0b0a-4908-8706-050403020100\",\"Name\":\"n1\",\"URL\":\"u\","
                       "\"Token\":\"t\",\"Type\":1,\"CreatedAt\":\"2021-03-30T17:02:32+08:00\","
                       "\"UpdatedAt\":\"2021-03-30T17:02:32+08:00\"}]");
    ASSERT_EQ(RUN("node", "list"), 0);
    ASSERT_STREQ(R.out, "[\n \t{\n \t\t\"ID\": \"0f0e0d0c-0b0a-4908-8706-050403020100\",\n \t\t\"Name\": \"n1\",\n"
                        " \t\t\"URL\": \"u\",\n \t\t\"Token\": \"t\",\n \t\t\"Type\": 1,\n"
                        " \t\t\"CreatedAt\": \"2021-03-30T17:02:32+08:00\",\n"
                        " \t\t\"UpdatedAt\": \"2021-03-30T17:02:32+08:00\"\n \t}\n ]\n");

    reset();
    expect("LogList", "[\"msg-select\",\"publisher\"]");
    ASSERT_EQ(RUN("log", "list"), 0);
    ASSERT_STREQ(R.out, "msg-select\npublisher\n");
    reset();
    expect("SetLogLevel", "null");
    expect("SetLogLevel", "null");
    ASSERT_EQ(RUN("log", "set-level", "--system", "api", "--system", "db", "DEBUG"), 0);
    ASSERT_STREQ(calls, "Message.SetLogLevel [\"api\",\"debug\"]\nMessage.SetLogLevel [\"db\",\"debug\"]\n");

    reset();
    expect("Send", "\"9a1b\"");
    ASSERT_EQ(RUN("send", "--from", T1, "--method", "2", "--params-hex", "00", "--gas-premium", "5", "f01000", "1.5"),
              0);
    ASSERT_STREQ(calls, "Message.Send [{\"To\":\"f01000\",\"From\":\"" F1 "\",\"Val\":\"1500000000000000000\","
                        "\"Account\":\"\",\"GasPremium\":\"5\",\"GasFeeCap\":null,\"GasLimit\":null,\"Method\":2,"
                        "\"Params\":\"00\",\"ParamsType\":\"hex\"}]\n");
    ASSERT_STREQ(R.out, "msg uuid 9a1b \n");
    reset();
    ASSERT_EQ(RUN("send", "--from", F1, "--", "f01000", "-1"), 1);
    ASSERT_STREQ(R.err, "ERROR: failed to parse amount: '-1' must not be negative\n");
    ASSERT_EQ(RUN("send", "--from", F1, "f01000", "1 bitcoin"), 1);
    ASSERT_TRUE(strncmp(R.err, "ERROR: failed to parse amount: unrecognized suffix", 50) == 0);
    ASSERT_EQ(RUN("send", "--from", F1, "f01000"), 1);
    ASSERT_STREQ(R.err, "ERROR: 'send' expects two arguments, target and amount\n");
    ASSERT_EQ(RUN("send", "--from", F1, "--params-json", "{}", "--params-hex", "00", "f01000", "1"), 1);
    ASSERT_STREQ(R.err, "ERROR: can only specify one of 'params-json' and 'params-hex'\n");
    ASSERT_STREQ(calls, "");
}

static void test_actor(void)
{
    static const char cfg[] = "{\"id\":\"0f0e0d0c-0b0a-4908-8706-050403020100\",\"version\":10,"
                              "\"code\":{\"/\":\"bafkqaddgnfwc6mjpon4xg5dfnu\"},\"method\":2,"
                              "\"gasOverEstimation\":1.5,\"maxFee\":\"1000\",\"gasFeeCap\":\"0\","
                              "\"gasOverPremium\":0,\"baseFee\":\"0\",\"createAt\":\"2021-03-30T17:02:32+08:00\","
                              "\"updateAt\":\"2021-03-30T17:02:32+08:00\"}";
    char list[1024];
    snprintf(list, sizeof(list), "[%s]", cfg);

    reset();
    expect("ListActorCfg", list);
    ASSERT_EQ(RUN("actor", "list"), 0);
    ASSERT_STREQ(R.out, "ID                                    Code                         Method  GasOverEstimation  "
                        "GasOverPremium  MaxFee  GasFeeCap  BaseFee  CreateAt             AVersion\n"
                        "0f0e0d0c-0b0a-4908-8706-050403020100  bafkqaddgnfwc6mjpon4xg5dfnu  2       1.5                "
                        "0               1000    0          0        2021-03-30 17:02:32  10\n");
    reset();
    expect("GetActorCfgByID", cfg);
    ASSERT_EQ(RUN("actor", "get", "--output-type", "json", "0f0e0d0c-0b0a-4908-8706-050403020100"), 0);
    ASSERT_STREQ(calls, "Message.GetActorCfgByID [\"0f0e0d0c-0b0a-4908-8706-050403020100\"]\n");
    ASSERT_TRUE(strstr(R.out, "\t\t\"method\": 2,\n") != NULL);

    reset();
    expect("SaveActorCfg", "null");
    ASSERT_EQ(RUN("actor", "add", "--version", "10", "--max-fee", "1000", "bafkqaddgnfwc6mjpon4xg5dfnu", "2"), 0);
    ASSERT_TRUE(strstr(calls, "Message.SaveActorCfg [{\"id\":\"") == calls);
    ASSERT_TRUE(strstr(calls, "\"version\":10,\"code\":{\"/\":\"bafkqaddgnfwc6mjpon4xg5dfnu\"},\"method\":2,"
                              "\"gasOverEstimation\":0,\"maxFee\":\"1000\"") != NULL);
    ASSERT_TRUE(strncmp(R.out, "add actor config ", 17) == 0);

    /* every bad input is refused before any call */
    reset();
    ASSERT_EQ(RUN("actor", "add", "--version", "10", "bafkqaddgnfwc6mjpon4xg5dfnu", "2"), 1);
    ASSERT_TRUE(strstr(R.err, "at least one fee flag is required") != NULL);
    ASSERT_EQ(RUN("actor", "add", "--max-fee", "1", "bafkqaddgnfwc6mjpon4xg5dfnu", "2"),
              1); /* fil/1/system */
    ASSERT_STREQ(R.err, "ERROR: actor not found:bafkqaddgnfwc6mjpon4xg5dfnu method(2) not exist\n");
    ASSERT_EQ(RUN("actor", "add", "--version", "10", "--max-fee", "1", "notacid", "2"), 1);
    ASSERT_STREQ(R.err, "ERROR: code: 'notacid' is not a CID\n");
    ASSERT_EQ(RUN("actor", "add", "--version", "10", "--max-fee", "1", "bafkqaddgnfwc6mjpon4xg5dfnu", "2x"), 1);
    ASSERT_STREQ(R.err, "ERROR: method: '2x' is not a method number\n");
    ASSERT_EQ(RUN("actor", "list", "--output-type", "yaml"), 1);
    ASSERT_STREQ(R.err, "ERROR: --output-type: 'yaml' is not supported (json or table)\n");
    ASSERT_STREQ(calls, "");

    reset();
    expect("UpdateActorCfg", "null");
    ASSERT_EQ(RUN("actor", "update-fee-params", "--gas-over-premium", "2.5", "0f0e0d0c-0b0a-4908-8706-050403020100"),
              0);
    ASSERT_STREQ(calls, "Message.UpdateActorCfg [\"0f0e0d0c-0b0a-4908-8706-050403020100\",{\"gasOverEstimation\":null,"
                        "\"maxFee\":null,\"gasFeeCap\":null,\"gasOverPremium\":2.5,\"baseFee\":null}]\n");
}

#define MINER7 "bafkqaetgnfwc6nzpon2g64tbm5sw22lomvza" /* identity "fil/7/storageminer" */
#define MINER18 "bafk2bzacead23tnh3ywx2cwudftngssfjgptsvr3nao7xv6mcfot7gvju4bak" /* mainnet, actors v18 */

/* The builtin actor tables: method names, the version of a code, list-builtin-actors. */
static void test_actor_builtin(void)
{
    static const char cfg[] =
        "[{\"id\":\"0f0e0d0c-0b0a-4908-8706-050403020100\",\"version\":18,"
        "\"code\":{\"/\":\"" MINER18 "\"},\"method\":16,\"gasOverEstimation\":1.5,"
        "\"maxFee\":\"1000\",\"gasFeeCap\":\"0\",\"gasOverPremium\":0,\"baseFee\":\"0\","
        "\"createAt\":\"2021-03-30T17:02:32+08:00\",\"updateAt\":\"2021-03-30T17:02:32+08:00\"}]";
    reset();
    expect("ListActorCfg", cfg);
    ASSERT_EQ(RUN("actor", "list"), 0);
    ASSERT_TRUE(strstr(R.out, "  Method  MethodName       GasOverEstimation  ") != NULL);
    ASSERT_TRUE(strstr(R.out, "  16      WithdrawBalance  1.5  ") != NULL);

    /* add without --version: the version of the code */
    reset();
    expect("SaveActorCfg", "null");
    ASSERT_EQ(RUN("actor", "add", "--max-fee", "1", MINER7, "16"), 0);
    ASSERT_TRUE(strstr(calls, "\"version\":7,\"code\":{\"/\":\"" MINER7 "\"},\"method\":16,") != NULL);
    reset();
    expect("SaveActorCfg", "null");
    ASSERT_EQ(RUN("actor", "add", "--max-fee", "1", MINER18, "2643134072"), 1); /* not a miner method */
    ASSERT_STREQ(calls, "");

    /* list-builtin-actors asks the node of config.toml for its network */
    reset();
    expect("Filecoin.StateNetworkName", "\"mainnet\"");
    ASSERT_EQ(RUN("actor", "list-builtin-actors"), 0);
    ASSERT_STREQ(calls, "Filecoin.StateNetworkName []\n");
    ASSERT_TRUE(strncmp(R.out, "Category          Version  Code  ", 33) == 0);
    ASSERT_TRUE(strstr(R.out, "\nstorageminer  ") != NULL);
    ASSERT_TRUE(strstr(R.out, "  18       " MINER18 "  16          WithdrawBalance\n") != NULL);
    ASSERT_TRUE(strstr(R.out, "  18       " MINER18 "  2280458852  WithdrawBalanceExported\n") != NULL);
    reset();
    expect("Filecoin.StateNetworkName", "\"calibrationnet\"");
    ASSERT_EQ(RUN("actor", "list-builtin-actors", "--version", "8"), 0);
    ASSERT_TRUE(strstr(R.out, "  8        bafk") != NULL);
    ASSERT_TRUE(strstr(R.out, "  18       bafk") == NULL);
    ASSERT_TRUE(strstr(R.out, "ethaccount") == NULL); /* no such actor before version 10 */
    reset();
    expect("Filecoin.StateNetworkName", "\"nosuchnet\"");
    ASSERT_EQ(RUN("actor", "list-builtin-actors"), 1);
    ASSERT_STREQ(R.err, "ERROR: no builtin actors known for network nosuchnet\n");
}

static void test_connection_errors(void)
{
    char path[1300], bad[600];
    /* wrong token -> 401 */
    snprintf(bad, sizeof(bad), "%s/badrepo", vc_test_tmpdir());
    ASSERT_OK(vc_mkdir_p(bad, 0700));
    snprintf(path, sizeof(path), "%s/token", bad);
    ASSERT_OK(vc_write_file_atomic(path, "wrong\n", 6, 0600));
    snprintf(path, sizeof(path), "%s/api", bad);
    ASSERT_OK(vc_write_file_atomic(path, vc_http_bound(srv), strlen(vc_http_bound(srv)), 0600));
    ASSERT_EQ(cli("--repo", bad, "log", "list", NULL), 1);
    ASSERT_TRUE(strstr(R.err, "refused the request (401 Unauthorized): the token is not accepted") != NULL);
    /* nobody listening; --api wins over <repo>/api */
    ASSERT_EQ(RUN("log", "list", "--api", "127.0.0.1:1"), 1);
    ASSERT_TRUE(strncmp(R.err, "ERROR: cannot reach venus-messager at http://127.0.0.1:1", 56) == 0);
    ASSERT_TRUE(strchr(R.err, '\n') == R.err + strlen(R.err) - 1);
    /* config.toml [api] Address is used when there is no <repo>/api */
    char cfg[600];
    snprintf(cfg, sizeof(cfg), "%s/cfgrepo", vc_test_tmpdir());
    ASSERT_OK(vc_mkdir_p(cfg, 0700));
    snprintf(path, sizeof(path), "%s/config.toml", cfg);
    const char *toml = "[api]\n  Address = \"/ip4/127.0.0.1/tcp/2\"\n";
    ASSERT_OK(vc_write_file_atomic(path, toml, strlen(toml), 0600));
    ASSERT_EQ(cli("--repo", cfg, "log", "list", NULL), 1);
    ASSERT_TRUE(strstr(R.err, "127.0.0.1:2") != NULL);
}

int main(int argc, char **argv)
{
    VC_TEST_INIT(argc, argv);
    vc_init();
    setenv("TZ", "CST-8", 1);
    tzset();
    unsetenv("VENUS_MESSAGER_PATH");
    if (srv_start() < 0) {
        fprintf(stderr, "cannot start the stand-in venus-messager\n");
        return 1;
    }
    VC_TEST_RUN(test_msg_list);
    VC_TEST_RUN(test_msg_lists_other);
    VC_TEST_RUN(test_msg_ops);
    VC_TEST_RUN(test_address);
    VC_TEST_RUN(test_share_node_log_send);
    VC_TEST_RUN(test_actor);
    VC_TEST_RUN(test_actor_builtin);
    VC_TEST_RUN(test_connection_errors);
    srv = vc_http_server_free(srv);
    return VC_TEST_DONE();
}

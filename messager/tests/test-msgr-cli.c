#include "msgr-cli.h"
#include "vc-test.h"
int main(int argc, char **argv)
{
    VC_TEST_INIT(argc, argv);
    return VC_TEST_DONE();
}

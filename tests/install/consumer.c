/* An outside program built against the installed library (tests/cli/install.sh). */
#include <espforge/number.h>
#include <espforge/part_table.h>
#include <stdio.h>

int main(void)
{
    int64_t v = 0;
    if (esf_parse_int_km("0x10K", &v, NULL) != ESF_OK || v != 16384)
        return 1;
    printf("consumer ok %lld\n", (long long)v);
    return 0;
}

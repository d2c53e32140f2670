/* test_crypto.c's tests in the program's crypto mode: esf_global_init(ESF_GLOBAL_STANDALONE)
 * first, which is process-wide, hence a program of its own. */
#define ESF_TEST_STANDALONE 1
#include "test_crypto.c"

/* libFuzzer target: the state file's escaping round trip, and the
 * unescaper on arbitrary input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/state.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *esc, *back, *z;
	size_t len;

	esc = state_escape((const char *)data, size);
	if (strpbrk(esc, " \n\r\t") != NULL)
		abort();	/* must stay one field of one line */
	if (state_unescape(esc, &back, &len) == -1 || len != size ||
	    memcmp(back, data, size) != 0)
		abort();
	free(back);
	free(esc);
	z = malloc(size + 1);
	memcpy(z, data, size);
	z[size] = '\0';
	if (state_unescape(z, &back, &len) == 0)
		free(back);
	free(z);
	return 0;
}

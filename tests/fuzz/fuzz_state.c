/* libFuzzer target: the state files.  The first byte chooses what the
 * rest is: a snapshot, a journal beside a good snapshot, or a UID for
 * the escaping round trip.  state_open must never crash, and whatever
 * it accepts must survive a save and load again with the same UIDs. */
#include <sys/stat.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/state.h"

static char dir[64], path[96];

static void
put(const char *suffix, const uint8_t *data, size_t size)
{
	char name[128];
	FILE *f;

	(void)snprintf(name, sizeof(name), "%s%s", path, suffix);
	if ((f = fopen(name, "w")) == NULL)
		abort();
	if (size > 0 && fwrite(data, 1, size, f) != size)
		abort();
	if (fclose(f) != 0)
		abort();
}

static void
clean(void)
{
	char name[128];
	static const char *const sfx[] = { "", ".journal", ".lock", ".new" };
	size_t i;

	for (i = 0; i < 4; i++) {
		(void)snprintf(name, sizeof(name), "%s%s", path, sfx[i]);
		(void)unlink(name);
	}
}

static void
escaping(const uint8_t *data, size_t size)
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
}

/* Opens what is there; if accepted, saves and reloads, and the count
 * must stay (nothing absent was marked, so nothing is dropped). */
static void
roundtrip(void)
{
	struct state *st;
	struct error e;
	size_t n;

	if ((st = state_open(path, "fuzz@host:995", 0, &e)) == NULL)
		return;
	n = state_count(st);
	if (state_save(st, &e) == -1)
		abort();
	state_close(st);
	if ((st = state_open(path, "fuzz@host:995", 1, &e)) == NULL)
		abort();
	if (state_count(st) != n)
		abort();
	state_close(st);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char good[] = "popfetch-state 2 fuzz@host:995\n"
	    "E 0 27fea2ad\n";

	if (dir[0] == '\0') {
		(void)snprintf(dir, sizeof(dir), "/tmp/fuzz_state.%ld",
		    (long)getpid());
		if (mkdir(dir, 0700) == -1)
			abort();
		(void)snprintf(path, sizeof(path), "%s/st", dir);
	}
	if (size == 0)
		return 0;
	clean();
	switch (data[0] % 3) {
	case 0:
		put("", data + 1, size - 1);
		roundtrip();
		break;
	case 1:
		put("", (const uint8_t *)good, sizeof(good) - 1);
		put(".journal", data + 1, size - 1);
		roundtrip();
		break;
	default:
		escaping(data + 1, size - 1);
		break;
	}
	return 0;
}

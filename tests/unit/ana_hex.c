/* ana_hex.c — unit tests of the trace stream's hex decoder
 * (analyzer/tc_hex.c): the table, SSE2 and AVX2 paths give the same bytes
 * and the same verdict for every length around their block sizes, both
 * letter cases, and a bad character at any position.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/check.h"
#include "tc_hex.h"

#define MAXN 300

static const char digits_lc[] = "0123456789abcdef";
static const char digits_uc[] = "0123456789ABCDEF";

/* Encode src[0..n) as hex, each digit's case picked by the rng. */
static void enc(char *dst, const uint8_t *src, size_t n, unsigned *rng)
{
	for (size_t i = 0; i < 2 * n; i++) {
		*rng = *rng * 1103515245u + 12345u;
		const char *d = (*rng >> 16) & 1 ? digits_uc : digits_lc;
		unsigned v = i % 2 ? src[i / 2] & 15 : src[i / 2] >> 4;
		dst[i] = d[v];
	}
}

/* Characters next to hex digits in ASCII, and others. */
static const char not_hex[] = "/:@G`g \0\xff}#$*";

int main(void)
{
	const char *names[] = { "table", "sse2", "avx2" };
	int paths = 0;
	for (int p = 0; p < 3; p++) {
		if (tc_unhex_force(p) != 0) {
			printf("SKIP: hex.%s: not on this machine\n", names[p]);
			continue;
		}
		paths++;
		unsigned rng = 1;
		uint8_t src[MAXN], out[MAXN + 1];
		char hex[2 * MAXN + 1];
		bool good = true, caught = true, wrote_past = false;
		for (size_t n = 0; n <= MAXN; n++) {
			for (size_t i = 0; i < n; i++) {
				rng = rng * 1103515245u + 12345u;
				src[i] = (uint8_t)(rng >> 16);
			}
			enc(hex, src, n, &rng);
			out[n] = 0xa5;
			if (tc_unhex(out, hex, n) != 0 || (n && memcmp(out, src, n) != 0))
				good = false;
			if (out[n] != 0xa5)
				wrote_past = true;
			/* every position once per length, a different bad character each time */
			for (size_t at = 0; at < 2 * n; at++) {
				char save = hex[at];
				hex[at] = not_hex[(n + at) % (sizeof not_hex - 1)];
				if (tc_unhex(out, hex, n) != -1)
					caught = false;
				hex[at] = save;
			}
		}
		char name[64];
		snprintf(name, sizeof name, "hex.%s_decodes_0_to_%d_bytes", names[p], MAXN);
		CHECK(name, good);
		snprintf(name, sizeof name, "hex.%s_rejects_a_bad_character_anywhere", names[p]);
		CHECK(name, caught);
		snprintf(name, sizeof name, "hex.%s_writes_n_bytes_only", names[p]);
		CHECK(name, !wrote_past);
	}
	CHECK("hex.table_and_sse2_available", paths >= 2 || tc_unhex_force(1) != 0);
	CHECK("hex.default_path", tc_unhex_force(-1) == 0);
	return check_done();
}

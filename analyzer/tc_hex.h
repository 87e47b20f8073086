/* tc_hex.h — hex -> bytes for the trace-buffer stream: every qTBuffer reply
 * is hex (up to 64 KiB of it every few ms, ~1.8 KB an event), so this is on
 * gotap's per-event path. */
#ifndef GOTAP_TC_HEX_H
#define GOTAP_TC_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Decode the 2n hex characters (either case) at src into dst[0..n).
 * Returns 0, or -1 if one is not a hex digit (dst then holds garbage). */
int tc_unhex(uint8_t *dst, const char *src, size_t n);

/* For tests: make tc_unhex use one path, 0 the table, 1 SSE2, 2 AVX2, or
 * -1 the best this CPU has (the default).  0, or -1 when that path is not
 * available here. */
int tc_unhex_force(int path);

#endif /* GOTAP_TC_HEX_H */

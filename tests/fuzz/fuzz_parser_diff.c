/* fuzz_parser_diff.c — libFuzzer target: the bulk RSP codec (issue #6) must
 * behave exactly like the original byte-at-a-time loops (tests/fuzz/rsp_ref.h).
 *
 * The input is a raw byte stream parsed with several capacities and splits
 * (every call compared: consumed count, event, whole parser state), and the
 * same bytes as a payload for escape, escape_fit, frame, checksum and hex.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rsp.h"
#include "rsp_ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t seed = 0x811c9dc5u;
	for (size_t i = 0; i < size && i < 16; i++)
		seed = (seed ^ data[i]) * 16777619u;
	static const size_t caps[] = { 0, 3, 64, 4096 };
	for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++)
		if (ref_diff_parse(data, size, caps[c], seed + (uint32_t)c) != 0) abort();
	if (ref_diff_codec(data, size) != 0) abort();
	return 0;
}

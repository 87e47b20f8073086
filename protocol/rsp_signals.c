/* rsp_signals.c — Linux (x86-64) signal numbers <-> GDB's signal numbers.
 *
 * Signals on the wire ('T05', 'C1e', QPassSignals) use GDB's target-independent
 * numbering from include/gdb/signals.def, not the host's.  They agree for most
 * of 1..15 but not all (Linux SIGBUS 7 is GDB 10, SIGUSR1 10 is GDB 30,
 * SIGUSR2 12 is GDB 31) and differ widely above: SIGURG (23) is GDB 16,
 * SIGCHLD (17) is GDB 20.  Real-time signals: Linux 32 is GDB_SIGNAL_REALTIME_32
 * (77), 33..63 are GDB 45..75, 64 is GDB 78 (gdb's common/signals.c).
 */
#include "rsp.h"

#define GDB_SIGNAL_REALTIME_33 45
#define GDB_SIGNAL_REALTIME_32 77
#define GDB_SIGNAL_REALTIME_64 78
#define GDB_SIGNAL_UNKNOWN 143

/* Index: Linux signal 0..31; value: GDB signal.  Linux 16 (SIGSTKFLT) has no
 * GDB name.  Linux 29 is SIGIO == SIGPOLL: gdb maps it to GDB_SIGNAL_IO. */
static const unsigned char host_to_gdb[32] = {
	[0] = 0,   [1] = 1,   [2] = 2,   [3] = 3,   [4] = 4,   [5] = 5,
	[6] = 6,   [7] = 10,  [8] = 8,   [9] = 9,   [10] = 30, [11] = 11,
	[12] = 31, [13] = 13, [14] = 14, [15] = 15, [16] = GDB_SIGNAL_UNKNOWN,
	[17] = 20, [18] = 19, [19] = 17, [20] = 18, [21] = 21, [22] = 22,
	[23] = 16, [24] = 24, [25] = 25, [26] = 26, [27] = 27, [28] = 28,
	[29] = 23, [30] = 32, [31] = 12,
};

/* Returns GDB's number for Linux signal host_sig; 143 (GDB_SIGNAL_UNKNOWN)
 * for numbers Linux does not have. */
int rsp_sig_from_host(int host_sig)
{
	if (host_sig >= 0 && host_sig < 32) return host_to_gdb[host_sig];
	if (host_sig == 32) return GDB_SIGNAL_REALTIME_32;
	if (host_sig >= 33 && host_sig <= 63)
		return GDB_SIGNAL_REALTIME_33 + host_sig - 33;
	if (host_sig == 64) return GDB_SIGNAL_REALTIME_64;
	return GDB_SIGNAL_UNKNOWN;
}

/* Returns the Linux number for GDB signal gdb_sig, 0 for GDB_SIGNAL_0, and -1
 * for GDB signals Linux does not have (SIGEMT, SIGLOST, SIGINFO, ...). */
int rsp_sig_to_host(int gdb_sig)
{
	if (gdb_sig == 0) return 0;
	for (int h = 1; h < 32; h++)
		if (host_to_gdb[h] == gdb_sig && gdb_sig != GDB_SIGNAL_UNKNOWN)
			return h;
	if (gdb_sig == 33) return 29;   /* GDB_SIGNAL_POLL: SIGPOLL == SIGIO on Linux */
	if (gdb_sig == GDB_SIGNAL_REALTIME_32) return 32;
	if (gdb_sig >= GDB_SIGNAL_REALTIME_33 && gdb_sig <= GDB_SIGNAL_REALTIME_33 + 30)
		return gdb_sig - GDB_SIGNAL_REALTIME_33 + 33;
	if (gdb_sig == GDB_SIGNAL_REALTIME_64) return 64;
	return -1;
}

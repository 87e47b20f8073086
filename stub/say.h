/* say.h — gotap-stub's progress messages on stderr, in gdbserver's words.
 *
 * "Listening on port N", "Process P created; pid = N", "Child exited with
 * status N", ...: launchers and tests wait for these, so they are printed by
 * default; --quiet (for a client that spawns the stub itself, e.g. gotap)
 * turns them off.  Errors are always printed, with perror/fprintf.
 */
#ifndef GOTAP_STUB_SAY_H
#define GOTAP_STUB_SAY_H

#include <stdbool.h>

extern bool stub_quiet;

/* printf to stderr unless stub_quiet. */
void stub_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* GOTAP_STUB_SAY_H */

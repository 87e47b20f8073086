/* fetch.h — find the target's executable for gotap: a local copy whose
 * build ID matches the running program's, or a copy fetched over RSP from
 * the stub (qXfer:exec-file:read for its path, vFile:setfs/open/pread/close
 * for its bytes), cached by build ID in $XDG_CACHE_HOME/gotap/<id>/<name>.
 *
 * Build IDs: the ELF note NT_GNU_BUILD_ID ("GNU", type 3) when the binary has
 * one, else Go's own note (".note.go.buildid": "Go", type 4, the string
 * `go tool buildid` prints).  Both are read from the PT_NOTE segments (or the
 * SHT_NOTE sections), so the remote side costs a few KB, not the file.
 */
#ifndef GOTAP_FETCH_H
#define GOTAP_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rspc.h"

#define FETCH_ID_MAX 256

/* A build ID: kind "gnu" (id = lower-case hex) or "go" (id = Go's string). */
struct fetch_id {
	const char *kind;           /* "gnu", "go", or NULL when none was found */
	char id[FETCH_ID_MAX];
};

/* Read pieces of a file: up to len bytes at off into buf; returns the count
 * (short or 0 at end of file) or -1. */
typedef long (*fetch_read_fn)(void *ctx, void *buf, size_t len, uint64_t off);

/* Build ID of the ELF file behind rd.  Returns 0 with *out filled, 1 when the
 * file is an x86-64/any ELF64 with no build ID note, -1 when it is not a
 * readable little-endian ELF64 file. */
int fetch_build_id(fetch_read_fn rd, void *ctx, struct fetch_id *out);

/* The same for a local path.  Returns as fetch_build_id. */
int fetch_file_build_id(const char *path, struct fetch_id *out);

/* Equal IDs (same kind and value; two "none" are never equal). */
bool fetch_id_equal(const struct fetch_id *a, const struct fetch_id *b);

/* What fetch_executable() decided. */
struct fetch_result {
	char *path;                 /* local file to load (malloc'd) */
	char *target_path;          /* the executable as the target sees it, or NULL (malloc'd) */
	struct fetch_id id;         /* the target's build ID (kind NULL if unknown) */
	bool fetched;               /* downloaded from the stub in this run */
	bool cached;                /* path is in the cache */
};

/* Choose the executable for a target reached over c.
 *   local: --binary PATH, or NULL.
 *   pid:   the target's process id as the stub reports it (0 if unknown):
 *          host I/O is done in its mount namespace ("vFile:setfs:PID").
 *   proc_exe: a local path that is the target's executable for sure (for
 *          gotap --pid: "/proc/PID/exe"), tried after `local` and before
 *          fetching; or NULL.
 * Order: `local` (if its build ID matches the target's or the target's is
 * unknown), the target's own path if it exists here with the same build ID,
 * proc_exe, the cache, then a fetch over vFile (verified, then cached).
 * Messages go to stderr with the "gotap: " prefix: what was fetched, where it
 * was cached, and why a local file was not used.
 * Returns 0 with *res filled (free with fetch_result_free), or -1 with a
 * one-line reason in err. */
int fetch_executable(struct rspc *c, const char *local, int64_t pid, const char *proc_exe,
		     struct fetch_result *res, char *err, size_t errlen);

void fetch_result_free(struct fetch_result *res);

/* The cache directory: $XDG_CACHE_HOME/gotap, else $HOME/.cache/gotap.
 * Returns 0 with the path in buf, or -1 (no HOME). */
int fetch_cache_dir(char *buf, size_t cap);

#endif /* GOTAP_FETCH_H */

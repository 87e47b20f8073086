/* session_ns.c — thread and process ids as the target sees them.
 *
 * A target in another PID namespace (a container) knows its threads by the
 * innermost ids of /proc/PID/task/TID/status "NSpid:"; the backend works with
 * host ids.  The wire carries the target's ids, so gdb shows what the
 * container shows.  In the stub's own namespace both maps are the identity.
 * (Contributed by "remote" for issue 8, see /tmp/gotap-notes/remote.md.)
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "session.h"

/* Is the target in another PID namespace than the stub? */
static bool other_pidns(struct stub_session *s)
{
	if (s->pid <= 0) return false;
	if (s->pidns == 0) {
		char p[64];
		struct stat a, b;
		snprintf(p, sizeof p, "/proc/%d/ns/pid", (int)s->pid);
		s->pidns = stat(p, &a) == 0 && stat("/proc/self/ns/pid", &b) == 0 &&
			   (a.st_dev != b.st_dev || a.st_ino != b.st_ino) ? 2 : 1;
	}
	return s->pidns == 2;
}

/* Innermost id of host thread tid of the target, from its NSpid line; 0 if unknown. */
static pid_t read_nspid(pid_t pid, pid_t tid)
{
	char p[96], line[256];
	snprintf(p, sizeof p, "/proc/%d/task/%d/status", (int)pid, (int)tid);
	FILE *f = fopen(p, "re");
	if (!f) return 0;
	pid_t ns = 0;
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, "NSpid:", 6) != 0) continue;
		char *last = NULL, *save = NULL;
		for (char *t = strtok_r(line + 6, " \t\n", &save); t; t = strtok_r(NULL, " \t\n", &save))
			last = t;
		if (last) ns = (pid_t)atoi(last);
		break;
	}
	if (fclose(f) != 0) perror("gotap-stub: fclose");
	return ns;
}

static void nsmap_add(struct stub_session *s, pid_t host, pid_t ns)
{
	for (int i = 0; i < s->nnsmap; i++)
		if (s->nsmap[i].host == host) {
			s->nsmap[i].ns = ns;
			return;
		}
	if (s->nnsmap == STUB_MAX_NSMAP) {   /* full: forget the oldest half */
		memmove(s->nsmap, s->nsmap + STUB_MAX_NSMAP / 2,
			(STUB_MAX_NSMAP / 2) * sizeof s->nsmap[0]);
		s->nnsmap = STUB_MAX_NSMAP / 2;
	}
	s->nsmap[s->nnsmap++] = (struct stub_nsid){ host, ns };
}

pid_t stub_ns_out(struct stub_session *s, pid_t host)
{
	if (host <= 0 || !other_pidns(s)) return host;
	for (int i = 0; i < s->nnsmap; i++)
		if (s->nsmap[i].host == host) return s->nsmap[i].ns;
	pid_t ns = read_nspid(s->pid, host);
	if (ns <= 0) return host;   /* gone before we looked: nothing better to say */
	nsmap_add(s, host, ns);
	return ns;
}

pid_t stub_ns_in(struct stub_session *s, pid_t wire)
{
	if (wire <= 0 || !other_pidns(s)) return wire;
	for (int i = 0; i < s->nnsmap; i++)
		if (s->nsmap[i].ns == wire) return s->nsmap[i].host;
	/* not seen yet: look at every thread of the target */
	char p[64];
	snprintf(p, sizeof p, "/proc/%d/task", (int)s->pid);
	DIR *d = opendir(p);
	if (!d) return -1;
	pid_t found = -1;
	struct dirent *e;
	while (found < 0 && (e = readdir(d)) != NULL) {
		pid_t tid = (pid_t)atoi(e->d_name);
		if (tid <= 0) continue;
		pid_t ns = read_nspid(s->pid, tid);
		if (ns > 0) nsmap_add(s, tid, ns);
		if (ns == wire) found = tid;
	}
	if (closedir(d) != 0) perror("gotap-stub: closedir");
	return found;
}

bool stub_ptid_in(struct stub_session *s, struct rsp_ptid *id)
{
	if (id->has_pid && id->pid > 0) {
		pid_t p = stub_ns_in(s, (pid_t)id->pid);
		if (p < 0) return false;
		id->pid = p;
	}
	if (id->tid > 0) {
		pid_t t = stub_ns_in(s, (pid_t)id->tid);
		if (t < 0) return false;
		id->tid = t;
	}
	return true;
}

/* pt_mem.c — target memory through /proc/PID/mem (long reads: process_vm_readv
 * first), with breakpoint shadowing.
 *
 * One pread/pwrite on /proc/PID/mem moves any amount (the kernel walks the
 * pages and stops at the first unmapped one, so a read that runs into a hole
 * comes back short, and is not retried: the retry would only fail), works on read-only text (FOLL_FORCE) and never needs the
 * threads stopped.  The fd belongs to one address space: it is reopened after
 * exec.  Reads show the original bytes under our int3s; writes over one update
 * the saved byte and leave the int3 in memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "pt_int.h"

int pt_mem_open(struct tgt *t)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/mem", (int)t->pid);
	pt_mem_close(t);
	t->no_pvm = false;
	t->memfd = open(path, O_RDWR | O_CLOEXEC);
	return t->memfd < 0 ? -errno : 0;
}

void pt_mem_close(struct tgt *t)
{
	if (t->memfd >= 0) close(t->memfd);
	t->memfd = -1;
}

/* Addresses above the signed off_t range cannot be pread; they are never user memory. */
static bool addr_ok(uint64_t addr, size_t len)
{
	return addr < (uint64_t)INT64_MAX && len <= (uint64_t)INT64_MAX - addr;
}

/* Reads longer than this go through process_vm_readv first. */
#define PVM_MIN 4096u

long pt_mem_read_raw(struct tgt *t, uint64_t addr, uint8_t *buf, size_t len)
{
	if (t->memfd < 0) return -ESRCH;
	if (!addr_ok(addr, len)) return -EIO;
	size_t done = 0;
	/* Over a page, process_vm_readv pins the pages in one go and copies
	 * straight into buf, where pread on /proc/PID/mem goes page by page
	 * through a bounce page: ~1.5x cheaper for 8 KiB (issue 6, a stack
	 * chunk per tracepoint hit).  What it does not read (a hole, or a page
	 * only /proc/PID/mem's FOLL_FORCE reads, such as PROT_NONE) pread
	 * goes on with, so the result is the same. */
	if (len > PVM_MIN && t->pid > 0 && !t->no_pvm) {
		struct iovec l = { .iov_base = buf, .iov_len = len };
		struct iovec r = { .iov_base = (void *)(uintptr_t)addr, .iov_len = len };
		ssize_t n = process_vm_readv(t->pid, &l, 1, &r, 1, 0);
		if (n > 0) done = (size_t)n;
		/* Not for this process at all (its leader exited: no mm; no
		 * permission; no syscall): the fd works, use only it. */
		else if (n < 0 && (errno == ESRCH || errno == EPERM || errno == ENOSYS || errno == EINVAL))
			t->no_pvm = true;
	}
	while (done < len) {
		size_t want = len - done;
		ssize_t n = pread(t->memfd, buf + done, want, (off_t)(addr + done));
		if (n < 0 && errno == EINTR) continue;
		if (n <= 0) {
			if (done) break;
			return n == 0 ? -EIO : -errno;
		}
		done += (size_t)n;
		/* short: a hole follows (a retry would only fail), unless the
		 * kernel capped the count (MAX_RW_COUNT, just under 2 GiB) */
		if ((size_t)n < want && want <= 0x7ffff000) break;
	}
	return (long)done;
}

long pt_mem_write_raw(struct tgt *t, uint64_t addr, const uint8_t *buf, size_t len)
{
	if (t->memfd < 0) return -ESRCH;
	if (!addr_ok(addr, len)) return -EIO;
	size_t done = 0;
	while (done < len) {
		size_t want = len - done;
		ssize_t n = pwrite(t->memfd, buf + done, want, (off_t)(addr + done));
		if (n < 0 && errno == EINTR) continue;
		if (n <= 0) {
			if (done) break;
			return n == 0 ? -EIO : -errno;
		}
		done += (size_t)n;
		/* short: a hole follows (a retry would only fail), unless the
		 * kernel capped the count (MAX_RW_COUNT, just under 2 GiB) */
		if ((size_t)n < want && want <= 0x7ffff000) break;
	}
	return (long)done;
}

/* Show the original bytes under our int3s in buf[0..n) read from addr. */
static void unshadow(struct tgt *t, uint64_t addr, uint8_t *buf, size_t n)
{
	for (int i = 0; i < t->nbp; i++) {
		const struct pt_bp *bp = &t->bps[i];
		uint64_t a = bp->addr;
		if (a >= addr && a - addr < (uint64_t)n) buf[a - addr] = bp->orig;
		if (!bp->jump) continue;
		for (uint64_t k = 1; k < 5; k++)      /* a jump's tail */
			if (a + k >= addr && a + k - addr < (uint64_t)n) buf[a + k - addr] = bp->orig5[k];
	}
}

long pt_read_mem(struct tgt *t, uint64_t addr, uint8_t *buf, size_t len)
{
	if (len == 0) return 0;
	long n = pt_mem_read_raw(t, addr, buf, len);
	if (n <= 0) return n;
	unshadow(t, addr, buf, (size_t)n);
	return n;
}

#define MEMV_MAX 64u

/* One process_vm_readv for every range (a tracepoint hit's scattered
 * little reads: a thread id in one struct, a word on a stack, ... cost one
 * system call instead of one each; issue 6).  The kernel copies the ranges
 * in order and stops at the first it cannot read: the ranges it returned
 * whole are done, the others are read one by one as pt_read_mem does
 * (pread on /proc/PID/mem also reads what only FOLL_FORCE may, and stops
 * at a hole), so each result is pt_read_mem's. */
int pt_read_memv(struct tgt *t, struct tgt_memv *v, unsigned n)
{
	if (t->memfd < 0) return -ESRCH;
	for (unsigned i = 0; i < n; i++) v[i].got = -1;
	if (n > 1 && n <= MEMV_MAX && t->pid > 0 && !t->no_pvm) {
		struct iovec l[MEMV_MAX], r[MEMV_MAX];
		unsigned k = 0;
		for (; k < n && v[k].len > 0 && addr_ok(v[k].addr, v[k].len); k++) {
			l[k] = (struct iovec){ .iov_base = v[k].buf, .iov_len = v[k].len };
			r[k] = (struct iovec){ .iov_base = (void *)(uintptr_t)v[k].addr, .iov_len = v[k].len };
		}
		ssize_t got = k ? process_vm_readv(t->pid, l, k, r, k, 0) : 0;
		if (got < 0 && (errno == ESRCH || errno == EPERM || errno == ENOSYS || errno == EINVAL))
			t->no_pvm = true;
		for (unsigned i = 0; i < k && got > 0 && (size_t)got >= v[i].len; i++) {
			v[i].got = (long)v[i].len;
			got -= (ssize_t)v[i].len;
			unshadow(t, v[i].addr, v[i].buf, v[i].len);
		}
	}
	for (unsigned i = 0; i < n; i++)
		if (v[i].got < 0) v[i].got = pt_read_mem(t, v[i].addr, v[i].buf, v[i].len);
	return 0;
}

long pt_write_mem(struct tgt *t, uint64_t addr, const uint8_t *buf, size_t len)
{
	if (len == 0) return 0;
	if (!addr_ok(addr, len)) return -EIO;
	/* A write into an instruction that runs from a jump pad makes the pad
	 * stale: the breakpoint goes back to an int3 first (re-decoded, it may
	 * get a new pad at its next hit). */
	bool moved = false;
	for (int i = 0; i < t->nbp; i++) {
		const struct pt_bp *bp = &t->bps[i];
		uint64_t end = bp->addr + (bp->insn.len > 5 ? bp->insn.len : 5);
		if (bp->jump && bp->addr < addr + len && addr < end) {
			int r = pt_jump_out(t, &t->bps[i]);
			if (r < 0) return r;
			moved = true;
		}
	}
	if (moved) pt_restart_idle(t);
	/* Write in chunks so bytes under breakpoints can be swapped for 0xcc
	 * without copying the whole request. */
	uint8_t tmp[4096];
	size_t done = 0;
	while (done < len) {
		size_t n = len - done < sizeof tmp ? len - done : sizeof tmp;
		uint64_t a0 = addr + done;
		memcpy(tmp, buf + done, n);
		for (int i = 0; i < t->nbp && !t->vforks; i++) {
			uint64_t a = t->bps[i].addr;
			if (a >= a0 && a - a0 < n) tmp[a - a0] = 0xcc;
		}
		long w = pt_mem_write_raw(t, a0, tmp, n);
		if (w <= 0) {
			if (done) break;
			return w == 0 ? -EIO : w;
		}
		/* Only what reached memory changes the saved bytes. */
		for (int i = 0; i < t->nbp; i++) {
			uint64_t a = t->bps[i].addr;
			if (a >= a0 && a - a0 < (uint64_t)w) t->bps[i].orig = buf[done + (a - a0)];
		}
		pt_insn_invalidate(t, a0, (size_t)w);
		done += (size_t)w;
		if ((size_t)w < n) break;
	}
	return (long)done;
}

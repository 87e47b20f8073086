/* handlers_query.c — connection and query packets: QStartNoAckMode, '!',
 * qXfer:features:read, qXfer:auxv:read, qXfer:exec-file:read, qRcmd
 * (monitor commands), qSymbol, qTStatus/qTfV/qTsV/qTfP/qTsP (idle trace
 * status), QDisableRandomization, QSetWorkingDir.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"

int stub_h_ok(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	(void)s; (void)a;
	stub_out_str(o, "OK");
	return STUB_OK;
}

/* The session switches to no-ack after sending this reply (session.c). */
int stub_h_noack(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	return stub_h_ok(s, a, o);
}

int stub_h_extended(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	s->extended = true;
	return stub_h_ok(s, a, o);
}

int stub_h_xfer_features(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	(void)s;
	const char *annex;
	size_t alen;
	uint64_t off, len;
	if (rsp_parse_xfer_read(a.p, a.n, &annex, &alen, &off, &len) < 0) return -EINVAL;
	if (alen != 10 || memcmp(annex, "target.xml", 10) != 0) return -ENOENT;
	const char *doc = rsp_amd64_target_xml();
	stub_xfer_chunk(o, doc, strlen(doc), off, len);
	return STUB_OK;
}

int stub_h_xfer_auxv(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	const char *annex;
	size_t alen;
	uint64_t off, len;
	if (rsp_parse_xfer_read(a.p, a.n, &annex, &alen, &off, &len) < 0 || alen != 0) return -EINVAL;
	static uint8_t auxv[8192];
	long n = s->ops->read_auxv(s->tgt, auxv, sizeof auxv);
	if (n < 0) return (int)n;
	stub_xfer_chunk(o, (const char *)auxv, (size_t)n, off, len);
	return STUB_OK;
}

int stub_h_xfer_exec_file(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	const char *annex;
	size_t alen;
	uint64_t off, len, pid = 0;
	if (rsp_parse_xfer_read(a.p, a.n, &annex, &alen, &off, &len) < 0) return -EINVAL;
	if (alen) {
		struct stub_cur c = { annex, alen };
		if (!stub_cur_hex(&c, &pid) || !stub_cur_end(&c)) return -EINVAL;
	}
	if (s->pid <= 0 || pid > 0x7fffffff || (pid && stub_ns_in(s, (pid_t)pid) != s->pid)) return -ESRCH;
	char path[4096];
	int r = s->ops->exe_path(s->tgt, path, sizeof path);
	if (r < 0) return r;
	stub_xfer_chunk(o, path, strnlen(path, sizeof path), off, len);
	return STUB_OK;
}

static void monitor_out(struct stub_session *s, const char *text)
{
	/* 'O' + hex text: console output while the command runs (E.4 qRcmd). */
	char buf[1024];
	size_t n = strlen(text);
	if (n > (sizeof buf - 1) / 2) n = (sizeof buf - 1) / 2;
	buf[0] = 'O';
	size_t w = rsp_hex_encode(buf + 1, sizeof buf - 1, (const uint8_t *)text, n);
	stub_send_packet(s, buf, w + 1);
}

static const char monitor_help[] =
	"The following monitor commands are supported:\n"
	"  set debug <0|1>\n"
	"    Enable or disable the packet log on gotap-stub's stderr\n"
	"  help\n"
	"    Print this message\n"
	"  exit\n"
	"    Quit gotap-stub (a launched program is killed, an attached one detached)\n";

int stub_h_qrcmd(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	char cmd[512];
	if (!stub_cur_hexstr(&a, 0, cmd, sizeof cmd)) return -EINVAL;
	if (strcmp(cmd, "exit") == 0) {
		s->quit = true;
		s->disconnect = true;   /* after this reply */
		stub_out_str(o, "OK");
	} else if (strcmp(cmd, "help") == 0) {
		monitor_out(s, monitor_help);
		stub_out_str(o, "OK");
	} else if (strcmp(cmd, "set debug 1") == 0 || strcmp(cmd, "set debug 0") == 0) {
		s->debug = cmd[10] == '1';
		monitor_out(s, s->debug ? "Debug output enabled.\n" : "Debug output disabled.\n");
		stub_out_str(o, "OK");
	} else {
		monitor_out(s, "Unknown monitor command.\n\n");
		monitor_out(s, monitor_help);
		return -EINVAL;
	}
	return STUB_OK;
}

/* The empty-list reply ("l") of the qTf?/qTs? iterations when no trace
 * experiment is defined, as gdbserver answers when idle. */
int stub_h_list_end(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	(void)s; (void)a;
	stub_out_str(o, "l");
	return STUB_OK;
}

/* qSymbol: we look up no symbols (no thread_db, no agent). */
int stub_h_qsymbol(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	return stub_h_ok(s, a, o);
}

int stub_h_disable_aslr(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	uint64_t v;
	if (!stub_cur_hex(&a, &v) || !stub_cur_end(&a)) return -EINVAL;
	s->disable_aslr = v != 0;
	return stub_h_ok(s, a, o);
}

int stub_h_set_cwd(struct stub_session *s, struct stub_cur a, struct stub_out *o)
{
	char dir[4096];
	if (!stub_cur_hexstr(&a, 0, dir, sizeof dir)) return -EINVAL;
	free(s->cwd);
	s->cwd = NULL;
	if (dir[0]) {
		s->cwd = strdup(dir);
		if (!s->cwd) return -ENOMEM;
	}
	return stub_h_ok(s, a, o);
}

/* say.c — progress messages (see say.h). */
#include <stdarg.h>
#include <stdio.h>

#include "say.h"

bool stub_quiet;

void stub_say(const char *fmt, ...)
{
	if (stub_quiet) return;
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

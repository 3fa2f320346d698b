/*
 * errbuf.c - a formatted message into the caller's error buffer.
 */
#include "core/errbuf.h"

#include <stdarg.h>
#include <stdio.h>

/* Format fmt into err[errlen] (if any); returns -1. */
int errbuf_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

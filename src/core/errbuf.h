/*
 * errbuf.h - the "0, or -1 with a message in err[errlen]" convention, in
 * one place: format the message into the caller's buffer (if it gave one)
 * and hand back -1, so a failing path reads `return errbuf_fail(...)`.
 */
#ifndef KC_ERRBUF_H
#define KC_ERRBUF_H

#include <stddef.h>

/* Format fmt into err[errlen] (ignored when err is NULL or errlen 0); returns -1. */
int errbuf_fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif /* KC_ERRBUF_H */

/*
 * error.c - texts for the YIMA_E* error space (see yima/error.h).
 */
#include <stdarg.h>
#include <stdio.h>

#include "yima/util/error.h"

const char *yima_strerror(int err)
{
	switch (err) {
	case YIMA_OK:		return "success";
	case YIMA_ENOMEM:	return "out of memory";
	case YIMA_EINVAL:	return "invalid argument";
	case YIMA_EIO:		return "input/output error";
	case YIMA_ENOTFOUND:	return "not found";
	case YIMA_EEXIST:	return "already exists";
	case YIMA_ENOSPACE:	return "ledger or disk full";
	case YIMA_ECORRUPT:	return "ledger data is corrupt";
	case YIMA_EMALFORMED:	return "malformed trace code";
	case YIMA_EBADRECORD:	return "bad record";
	case YIMA_ETOOBIG:	return "input too large";
	case YIMA_EVERSION:	return "unsupported ledger version";
	case YIMA_ECRYPTO:	return "cryptographic library failure";
	case YIMA_EBUSY:	return "resource busy";
	case YIMA_EFORMAT:	return "unexpected file format";
	case YIMA_EMISMATCH:	return "check failed";
	case YIMA_ETLS:		return "TLS configuration error";
	case YIMA_EUNAVAIL:	return "cluster unavailable, try again";
	}
	return "unknown error";
}

int yima_fail(char *buf, size_t n, int err, const char *fmt, ...)
{
	if (buf != NULL && n > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(buf, n, fmt, ap);
		va_end(ap);
	}
	return err;
}

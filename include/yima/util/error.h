/*
 * error.h - the one error space of libyima.
 *
 * Every library function returns 0 on success or a negative YIMA_E* value.
 * LMDB, OpenSSL and errno values are translated into this space at the
 * boundary where they occur, so callers never see a foreign error code.
 * Where a person needs detail (which line, which rule), functions also fill
 * a caller-provided message buffer; yima_strerror() gives the generic text.
 */
#ifndef YIMA_ERROR_H
#define YIMA_ERROR_H

#include <stddef.h>

enum yima_err {
	YIMA_OK = 0,
	YIMA_ENOMEM = -1,	/* allocation failed */
	YIMA_EINVAL = -2,	/* bad argument or usage */
	YIMA_EIO = -3,		/* read/write/fsync failed */
	YIMA_ENOTFOUND = -4,	/* key or file not there */
	YIMA_EEXIST = -5,	/* already there (e.g. file ingested before) */
	YIMA_ENOSPACE = -6,	/* ledger map full or disk full */
	YIMA_ECORRUPT = -7,	/* stored data fails a check */
	YIMA_EMALFORMED = -8,	/* a trace code does not normalize */
	YIMA_EBADRECORD = -9,	/* an input row breaks spec section 3 */
	YIMA_ETOOBIG = -10,	/* input over a documented limit */
	YIMA_EVERSION = -11,	/* ledger written by an unknown layout version */
	YIMA_ECRYPTO = -12,	/* OpenSSL failed */
	YIMA_EBUSY = -13,	/* resource locked by another process */
	YIMA_EFORMAT = -14,	/* a file is not in the expected format */
	YIMA_EMISMATCH = -15,	/* audit: something differs from what it should be */
	YIMA_ETLS = -16,	/* TLS set up wrong (untrusted or mismatched
				 * certificate, refused client certificate,
				 * protocol version): retrying cannot help */
	YIMA_EUNAVAIL = -17,	/* a cluster could not answer in time (its
				 * streams or views): retrying may help */
};

/* Generic text for an error code; never NULL, static storage. */
const char *yima_strerror(int err);

/* Fill buf (size n, always NUL-terminated when n > 0) from a printf format.
 * Returns err unchanged, so a function can `return yima_fail(...)`. */
int yima_fail(char *buf, size_t n, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif

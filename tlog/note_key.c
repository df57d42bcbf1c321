/*
 * note_key.c - Ed25519 keys for signed notes: making, loading and saving
 * the log key, key ids and verifier keys (see yima/tlog/note.h).  All key
 * handling goes through OpenSSL 3's EVP API; the private key never sits in
 * a buffer of ours longer than a load or save, and is wiped after.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "yima/tlog/note.h"
#include "yima/util/error.h"
#include "yima/util/base64.h"
#include "note_impl.h"

#define NOTE_KEY_FILE_MAX 4096	/* an Ed25519 PKCS#8 PEM is 119 bytes */

struct note_signer {
	EVP_PKEY *pkey;
	uint32_t id;
	uint8_t pub[NOTE_PUBKEY_SIZE];
	char name[NOTE_NAME_MAX + 1];
};

int note_key_id(const char *name, size_t len, const uint8_t pub[NOTE_PUBKEY_SIZE],
	uint32_t *id)
{
	static const uint8_t sep[2] = { 0x0a, NOTE_ALG_ED25519 };
	uint8_t h[32];
	int rc = YIMA_ECRYPTO;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		return YIMA_ENOMEM;
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1
	    && EVP_DigestUpdate(ctx, name, len) == 1
	    && EVP_DigestUpdate(ctx, sep, sizeof sep) == 1
	    && EVP_DigestUpdate(ctx, pub, NOTE_PUBKEY_SIZE) == 1
	    && EVP_DigestFinal_ex(ctx, h, NULL) == 1) {
		*id = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16
			| (uint32_t)h[2] << 8 | h[3];
		rc = 0;
	}
	EVP_MD_CTX_free(ctx);
	return rc;
}

/* A name of ours: valid and short enough for the structs. */
static int note_own_name(const char *name, char *why, size_t whylen)
{
	size_t len = strlen(name);
	if (len > NOTE_NAME_MAX)
		return yima_fail(why, whylen, YIMA_EINVAL,
			"key name is %zu bytes, over %d", len, NOTE_NAME_MAX);
	if (!note_name_valid(name, len))
		return yima_fail(why, whylen, YIMA_EINVAL,
			"key name \"%s\" is empty or has a space, a '+' or a control "
			"character", name);
	return 0;
}

int note_vkey_format(const char *name, const uint8_t pub[NOTE_PUBKEY_SIZE],
	char *out, size_t cap, size_t *outlen, char *why, size_t whylen)
{
	uint8_t raw[1 + NOTE_PUBKEY_SIZE];
	char b64[64];
	uint32_t id;
	int rc;
	if ((rc = note_own_name(name, why, whylen)) < 0)
		return rc;
	if ((rc = note_key_id(name, strlen(name), pub, &id)) < 0)
		return rc;
	raw[0] = NOTE_ALG_ED25519;
	memcpy(raw + 1, pub, NOTE_PUBKEY_SIZE);
	if ((rc = base64_encode(raw, sizeof raw, b64, sizeof b64, NULL)) < 0)
		return rc;
	int n = snprintf(out, cap, "%s+%08x+%s", name, (unsigned)id, b64);
	if (n < 0 || (size_t)n >= cap)
		return yima_fail(why, whylen, YIMA_ETOOBIG, "vkey buffer too small");
	if (outlen != NULL)
		*outlen = (size_t)n;
	return 0;
}

/* Wrap pkey (ownership passes to *out on success only) with its name. */
static int note_signer_wrap(const char *name, EVP_PKEY *pkey, note_signer_t **out,
	char *why, size_t whylen)
{
	size_t publen = NOTE_PUBKEY_SIZE;
	note_signer_t *s;
	int rc;
	if ((rc = note_own_name(name, why, whylen)) < 0)
		return rc;
	if ((s = calloc(1, sizeof *s)) == NULL)
		return YIMA_ENOMEM;
	if (EVP_PKEY_get_raw_public_key(pkey, s->pub, &publen) != 1
	    || publen != NOTE_PUBKEY_SIZE) {
		rc = yima_fail(why, whylen, YIMA_ECRYPTO, "cannot read the public key");
		goto free_s;
	}
	if ((rc = note_key_id(name, strlen(name), s->pub, &s->id)) < 0)
		goto free_s;
	memcpy(s->name, name, strlen(name) + 1);
	s->pkey = pkey;
	*out = s;
	return 0;
free_s:
	free(s);
	return rc;
}

int note_signer_generate(const char *name, note_signer_t **out, char *why, size_t whylen)
{
	EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (pkey == NULL) {
		ERR_clear_error();
		return yima_fail(why, whylen, YIMA_ECRYPTO, "Ed25519 key generation failed");
	}
	int rc = note_signer_wrap(name, pkey, out, why, whylen);
	if (rc < 0)
		EVP_PKEY_free(pkey);
	return rc;
}

int note_signer_from_seed(const char *name, const uint8_t seed[NOTE_SEED_SIZE],
	note_signer_t **out, char *why, size_t whylen)
{
	EVP_PKEY *pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed,
		NOTE_SEED_SIZE);
	if (pkey == NULL) {
		ERR_clear_error();
		return yima_fail(why, whylen, YIMA_ECRYPTO, "cannot make an Ed25519 key");
	}
	int rc = note_signer_wrap(name, pkey, out, why, whylen);
	if (rc < 0)
		EVP_PKEY_free(pkey);
	return rc;
}

/* Read the whole key file (at most cap bytes) after checking it is a
 * regular file nobody else may read. */
static int note_key_read(const char *path, char *buf, size_t cap, size_t *n,
	char *why, size_t whylen)
{
	struct stat st;
	int rc = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return yima_fail(why, whylen, errno == ENOENT ? YIMA_ENOTFOUND : YIMA_EIO,
			"%s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0)
		rc = yima_fail(why, whylen, YIMA_EIO, "%s: %s", path, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		rc = yima_fail(why, whylen, YIMA_EINVAL, "%s: not a regular file", path);
	else if (st.st_mode & 077)
		rc = yima_fail(why, whylen, YIMA_EINVAL, "%s: mode %03o lets others "
			"read the private key (chmod 600 it)", path,
			(unsigned)(st.st_mode & 0777));
	else if (st.st_size <= 0 || (size_t)st.st_size > cap)
		rc = yima_fail(why, whylen, YIMA_EFORMAT, "%s: %lld bytes is not an "
			"Ed25519 key file", path, (long long)st.st_size);
	*n = 0;
	while (rc == 0 && *n < (size_t)st.st_size) {
		ssize_t got = read(fd, buf + *n, (size_t)st.st_size - *n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			rc = yima_fail(why, whylen, YIMA_EIO, "%s: short read", path);
		else
			*n += (size_t)got;
	}
	close(fd);
	return rc;
}

/* PEM's passphrase callback: we never prompt; an encrypted key fails. */
static int note_no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf; (void)size; (void)rwflag; (void)u;
	return -1;
}

int note_signer_load(const char *path, const char *name, note_signer_t **out,
	char *why, size_t whylen)
{
	char buf[NOTE_KEY_FILE_MAX];
	size_t n = 0;
	EVP_PKEY *pkey = NULL;
	int rc = note_key_read(path, buf, sizeof buf, &n, why, whylen);
	if (rc < 0)
		goto wipe;
	BIO *bio = BIO_new_mem_buf(buf, (int)n);
	if (bio == NULL) {
		rc = YIMA_ENOMEM;
		goto wipe;
	}
	pkey = PEM_read_bio_PrivateKey(bio, NULL, note_no_passphrase, NULL);
	BIO_free(bio);
	if (pkey == NULL || !EVP_PKEY_is_a(pkey, "ED25519")) {
		ERR_clear_error();
		rc = yima_fail(why, whylen, YIMA_EFORMAT, "%s: not an unencrypted "
			"Ed25519 private key in PEM", path);
		goto free_pkey;
	}
	if ((rc = note_signer_wrap(name, pkey, out, why, whylen)) == 0)
		pkey = NULL;
free_pkey:
	EVP_PKEY_free(pkey);
wipe:
	OPENSSL_cleanse(buf, sizeof buf);
	return rc;
}

int note_signer_open(const char *path, const char *name, bool create, note_signer_t **out,
	char *why, size_t whylen)
{
	int rc = note_signer_load(path, name, out, why, whylen);
	if (rc != YIMA_ENOTFOUND || !create)
		return rc;
	if ((rc = note_signer_generate(name, out, why, whylen)) < 0)
		return rc;
	if ((rc = note_signer_save(*out, path, why, whylen)) < 0) {
		note_signer_free(*out);
		*out = NULL;
	}
	return rc;
}

/* fsync the directory holding path, so a new file's name is durable. */
static int note_sync_dir(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	if (slash == NULL)
		snprintf(dir, sizeof dir, ".");
	else if (slash == path)
		snprintf(dir, sizeof dir, "/");
	else if ((size_t)(slash - path) < sizeof dir)
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
	else
		return -1;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

/* Create path (0600, never over an existing file) holding data. */
static int note_key_write(const char *path, const char *data, size_t n,
	char *why, size_t whylen)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return yima_fail(why, whylen, errno == EEXIST ? YIMA_EEXIST : YIMA_EIO,
			"%s: %s", path, strerror(errno));
	size_t done = 0;
	int rc = 0;
	while (rc == 0 && done < n) {
		ssize_t put = write(fd, data + done, n - done);
		if (put < 0 && errno == EINTR)
			continue;
		if (put <= 0)
			rc = yima_fail(why, whylen, YIMA_EIO, "%s: %s", path,
				put < 0 ? strerror(errno) : "short write");
		else
			done += (size_t)put;
	}
	if (rc == 0 && fsync(fd) != 0)
		rc = yima_fail(why, whylen, YIMA_EIO, "%s: fsync: %s", path, strerror(errno));
	if (close(fd) != 0 && rc == 0)
		rc = yima_fail(why, whylen, YIMA_EIO, "%s: close: %s", path, strerror(errno));
	if (rc == 0 && note_sync_dir(path) != 0)
		rc = yima_fail(why, whylen, YIMA_EIO, "%s: fsync of its directory: %s",
			path, strerror(errno));
	if (rc < 0)
		unlink(path);
	return rc;
}

int note_signer_save(const note_signer_t *s, const char *path, char *why, size_t whylen)
{
	char *pem;
	int rc;
	/* secure-heap BIO: its buffer is wiped when freed */
	BIO *bio = BIO_new(BIO_s_secmem());
	if (bio == NULL)
		return YIMA_ENOMEM;
	if (PEM_write_bio_PrivateKey(bio, s->pkey, NULL, NULL, 0, NULL, NULL) != 1) {
		ERR_clear_error();
		rc = yima_fail(why, whylen, YIMA_ECRYPTO, "cannot encode the private key");
		goto free_bio;
	}
	long n = BIO_get_mem_data(bio, &pem);
	if (n <= 0) {
		rc = yima_fail(why, whylen, YIMA_ECRYPTO, "cannot encode the private key");
		goto free_bio;
	}
	rc = note_key_write(path, pem, (size_t)n, why, whylen);
free_bio:
	BIO_free(bio);
	return rc;
}

void note_signer_free(note_signer_t *s)
{
	if (s == NULL)
		return;
	EVP_PKEY_free(s->pkey);	/* OpenSSL wipes Ed25519 private keys on free */
	OPENSSL_cleanse(s, sizeof *s);
	free(s);
}

const char *note_signer_name(const note_signer_t *s)
{
	return s->name;
}

uint32_t note_signer_key_id(const note_signer_t *s)
{
	return s->id;
}

void note_signer_public_key(const note_signer_t *s, uint8_t pub[NOTE_PUBKEY_SIZE])
{
	memcpy(pub, s->pub, NOTE_PUBKEY_SIZE);
}

int note_signer_vkey(const note_signer_t *s, char *out, size_t cap, size_t *outlen)
{
	return note_vkey_format(s->name, s->pub, out, cap, outlen, NULL, 0);
}

int note_sign_raw(const note_signer_t *s, const void *msg, size_t len,
	uint8_t sig[NOTE_SIG_SIZE])
{
	size_t siglen = NOTE_SIG_SIZE;
	int rc = YIMA_ECRYPTO;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		return YIMA_ENOMEM;
	/* Ed25519 is one-shot and has no digest of its own: md is NULL */
	if (EVP_DigestSignInit(ctx, NULL, NULL, NULL, s->pkey) == 1
	    && EVP_DigestSign(ctx, sig, &siglen, msg, len) == 1
	    && siglen == NOTE_SIG_SIZE)
		rc = 0;
	else
		ERR_clear_error();
	EVP_MD_CTX_free(ctx);
	return rc;
}

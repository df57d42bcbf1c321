/*
 * server_tls.c - yimad's TLS: the server context, who the client
 * certificate says the caller is, and why a handshake failed (the
 * connections themselves are server/http/http_conn.c's).
 *
 * Facility and regulator certificates come from two CAs; both are trusted
 * for the handshake, and the root a verified chain ends at tells which
 * kind of caller it is.  The facility id is the subject CN: exactly one
 * CN, a facility id, or the caller is refused (a subject with two CNs
 * acted as its first one: issue 9 item 6).  A regulator's single CN may
 * be any name.  A refused certificate completes the handshake and gets
 * 403 on every request, with the reason (docs/protocol.md).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "server_int.h"
#include "yima/util/error.h"

static void ssl_why(char *why, size_t whylen, const char *what, const char *path)
{
	char e[256];
	ERR_error_string_n(ERR_get_error(), e, sizeof e);
	yima_fail(why, whylen, YIMA_ECRYPTO, "%s %s: %s", what, path ? path : "", e);
}

SSL_CTX *tls_server_ctx(const char *cert, const char *key, const char *client_ca,
			const char *regulator_ca, char *why, size_t whylen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL) {
		ssl_why(why, whylen, "TLS context", NULL);
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* A client that closes without close_notify has ended its
	 * connection, not broken it. */
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF);
	/* Take all that one read() got: http_conn.c feeds it once. */
	SSL_CTX_set_read_ahead(ctx, 1);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		ssl_why(why, whylen, "--tls-cert", cert);
		goto free_ctx;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		ssl_why(why, whylen, "--tls-key", key);
		goto free_ctx;
	}
	if (client_ca == NULL && regulator_ca == NULL)
		return ctx;	/* server-only TLS: the public listener */
	if (client_ca != NULL && SSL_CTX_load_verify_locations(ctx, client_ca, NULL) != 1) {
		ssl_why(why, whylen, "--client-ca", client_ca);
		goto free_ctx;
	}
	if (regulator_ca != NULL && SSL_CTX_load_verify_locations(ctx, regulator_ca, NULL) != 1) {
		ssl_why(why, whylen, "--regulator-ca", regulator_ca);
		goto free_ctx;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	/* Session resumption keeps reconnecting scanners cheap; the client
	 * certificate is part of the session, so identity survives it. */
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"yimad", 5);
	return ctx;
free_ctx:
	SSL_CTX_free(ctx);
	return NULL;
}

X509 *tls_load_cert(const char *path)
{
	X509 *x = NULL;
	FILE *fp = fopen(path, "r");

	if (fp == NULL)
		return NULL;
	x = PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	return x;
}

/* The number of CN attributes in the subject (any RDN, multi-valued ones
 * included); *cn the last one. */
static int subject_cns(X509 *peer, ASN1_STRING **cn)
{
	X509_NAME *name = X509_get_subject_name(peer);
	int n = 0;

	*cn = NULL;
	for (int at = -1; (at = X509_NAME_get_index_by_NID(name, NID_commonName, at)) >= 0; n++)
		*cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, at));
	return n;
}

void tls_caller(SSL *ssl, X509 *regulator_ca, const relay_table_t *relays, caller_t *c)
{
	X509 *peer;
	STACK_OF(X509) *chain;
	int n;

	memset(c, 0, sizeof *c);
	c->kind = CALLER_NONE;
	if (ssl == NULL || SSL_get_verify_result(ssl) != X509_V_OK ||
	    (peer = SSL_get0_peer_certificate(ssl)) == NULL)
		return;
	ASN1_STRING *cn;
	int ncn = subject_cns(peer, &cn);
	if (ncn != 1) {
		c->kind = CALLER_REFUSED;
		c->refusal = ncn == 0 ? "the client certificate's subject has no CN (exactly one is required)"
				      : "the client certificate's subject has more than one CN (exactly one is required)";
		return;
	}
	/* A resumed session has no verified chain (it was verified when it
	 * was made): then the certificate's issuer tells, since the two CAs
	 * are different CAs. */
	chain = SSL_get0_verified_chain(ssl);
	if (regulator_ca != NULL &&
	    (chain != NULL && (n = sk_X509_num(chain)) > 0
		     ? X509_cmp(sk_X509_value(chain, n - 1), regulator_ca) == 0
		     : X509_check_issued(regulator_ca, peer) == X509_V_OK)) {
		c->kind = CALLER_REGULATOR;
		return;
	}
	/* A platform of --relay acts for the facilities its patterns match. */
	if ((n = ASN1_STRING_length(cn)) > 0 &&
	    (c->relay = relay_find(relays, (const char *)ASN1_STRING_get0_data(cn), (size_t)n)) != NULL) {
		memcpy(c->cn, c->relay->cn, strlen(c->relay->cn) + 1);
		c->kind = CALLER_RELAY;
		return;
	}
	/* The CN whole, never a truncated copy of a longer one. */
	if ((n = ASN1_STRING_length(cn)) <= 0 || (size_t)n >= sizeof c->cn ||
	    (size_t)n > FACILITY_MAX ||
	    !event_is_facility_id((const char *)ASN1_STRING_get0_data(cn), (size_t)n)) {
		c->kind = CALLER_REFUSED;
		c->refusal = "the client certificate's CN is not a facility id ([A-Z0-9]{1,20})";
		return;
	}
	memcpy(c->cn, ASN1_STRING_get0_data(cn), (size_t)n);
	c->cn[n] = '\0';
	c->kind = CALLER_FACILITY;
}

void tls_failure_reason(SSL *ssl, int err, char *out, size_t n)
{
	unsigned long e = ERR_peek_last_error();
	const char *why = e ? ERR_reason_error_string(e) : NULL;
	long vr = SSL_get_verify_result(ssl);

	if (err == SSL_ERROR_SYSCALL || err == SSL_ERROR_ZERO_RETURN || why == NULL)
		why = "the client closed the connection during the handshake";
	if (vr != X509_V_OK)
		snprintf(out, n, "%s (%s)", why, X509_verify_cert_error_string(vr));
	else
		snprintf(out, n, "%s", why);
}

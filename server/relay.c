/*
 * relay.c - the --relay file and who a relay may act as (see relay.h).
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay.h"
#include "yima/core/event.h"
#include "yima/util/error.h"

static bool is_pattern(const char *s, size_t n)
{
	if (n == 0 || n > FACILITY_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '*' || c == '?'))
			return false;
	}
	return true;
}

static bool is_cn(const char *s, size_t n)
{
	if (n == 0 || n > RELAY_CN_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

/* One line's words into e.  Returns 0, 1 for a line with none, or a
 * YIMA_EFORMAT with why. */
static int parse_line(char *line, relay_entry_t *e, const char *path, unsigned no, char *why,
		      size_t whylen)
{
	char *save = NULL, *w;
	size_t n;

	memset(e, 0, sizeof *e);
	line[strcspn(line, "#\r\n")] = '\0';
	if ((w = strtok_r(line, " \t", &save)) == NULL)
		return 1;
	if (!is_cn(w, strlen(w)))
		return yima_fail(why, whylen, YIMA_EFORMAT, "%s: line %u: \"%.64s\" is not a certificate CN "
				 "(1 to %d printable bytes, no space)", path, no, w, RELAY_CN_MAX);
	memcpy(e->cn, w, strlen(w) + 1);
	while ((w = strtok_r(NULL, " \t", &save)) != NULL) {
		if (!is_pattern(w, n = strlen(w)))
			return yima_fail(why, whylen, YIMA_EFORMAT, "%s: line %u: \"%.40s\" is not a facility "
					 "pattern ([A-Z0-9*?]{1,20})", path, no, w);
		if (e->npat == RELAY_PATTERNS_MAX)
			return yima_fail(why, whylen, YIMA_EFORMAT, "%s: line %u: more than %d patterns",
					 path, no, RELAY_PATTERNS_MAX);
		memcpy(e->pat[e->npat++], w, n + 1);
	}
	if (e->npat == 0)
		return yima_fail(why, whylen, YIMA_EFORMAT, "%s: line %u: %s names no facility pattern",
				 path, no, e->cn);
	return 0;
}

static int add(relay_table_t *t, const relay_entry_t *e, const char *path, unsigned no, char *why,
	       size_t whylen)
{
	relay_entry_t *grown;

	if (relay_find(t, e->cn, strlen(e->cn)) != NULL)
		return yima_fail(why, whylen, YIMA_EFORMAT, "%s: line %u: %s is listed twice", path, no,
				 e->cn);
	if ((grown = realloc(t->e, (t->n + 1) * sizeof *grown)) == NULL)
		return yima_fail(why, whylen, YIMA_ENOMEM, "out of memory");
	t->e = grown;
	t->e[t->n++] = *e;
	return 0;
}

int relay_load(const char *path, relay_table_t *t, char *why, size_t whylen)
{
	char line[4096];
	relay_entry_t e;
	unsigned no = 0;
	FILE *fp;
	int rc = 0;

	memset(t, 0, sizeof *t);
	if ((fp = fopen(path, "r")) == NULL)
		return yima_fail(why, whylen, YIMA_EIO, "%s: %s", path, strerror(errno));
	while (rc == 0 && fgets(line, sizeof line, fp) != NULL) {
		no++;
		if (strchr(line, '\n') == NULL && !feof(fp))
			rc = yima_fail(why, whylen, YIMA_EFORMAT, "%s: line %u: longer than %zu bytes",
				       path, no, sizeof line - 1);
		else if ((rc = parse_line(line, &e, path, no, why, whylen)) == 1)
			rc = 0;
		else if (rc == 0)
			rc = add(t, &e, path, no, why, whylen);
	}
	if (rc == 0 && ferror(fp))
		rc = yima_fail(why, whylen, YIMA_EIO, "%s: read error", path);
	fclose(fp);
	if (rc < 0)
		relay_free(t);
	return rc;
}

void relay_free(relay_table_t *t)
{
	free(t->e);
	memset(t, 0, sizeof *t);
}

const relay_entry_t *relay_find(const relay_table_t *t, const char *cn, size_t n)
{
	for (size_t i = 0; t != NULL && i < t->n; i++)
		if (strlen(t->e[i].cn) == n && memcmp(t->e[i].cn, cn, n) == 0)
			return &t->e[i];
	return NULL;
}

bool relay_may_act_as(const relay_entry_t *e, const char *facility, size_t n)
{
	char f[FACILITY_MAX + 1];

	if (!event_is_facility_id(facility, n))
		return false;
	memcpy(f, facility, n);
	f[n] = '\0';
	for (size_t i = 0; i < e->npat; i++)
		if (fnmatch(e->pat[i], f, 0) == 0)
			return true;
	return false;
}

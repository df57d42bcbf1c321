/*
 * html.c - HTML text escaping (see html.h).
 */
#include <stdint.h>

#include "yima/util/html.h"
#include "yima/util/utf8.h"

static const char *entity(uint8_t c)
{
	switch (c) {
	case '&': return "&amp;";
	case '<': return "&lt;";
	case '>': return "&gt;";
	case '"': return "&quot;";
	case '\'': return "&#39;";
	default: return NULL;
	}
}

static int plain(uint8_t c)
{
	return (c >= 0x20 && c < 0x7F && entity(c) == NULL) || c == '\t' || c == '\n';
}

void html_text(buf_t *b, const char *str, size_t n)
{
	const uint8_t *s = (const uint8_t *)str;
	size_t i = 0;

	while (i < n) {
		uint8_t c = s[i];
		if (plain(c)) {
			size_t run = i;
			while (i < n && plain(s[i]))
				i++;
			buf_put(b, s + run, i - run);
		} else if (entity(c) != NULL) {
			buf_puts(b, entity(c));
			i++;
		} else if (c < 0x80) {
			buf_put(b, UTF8_REPLACEMENT, 3);	/* C0 control or DEL */
			i++;
		} else {
			size_t bad, len = utf8_seq_len(s + i, n - i, &bad);
			/* C1 controls (U+0080..U+009F) are parse errors too */
			if (len == 0 || (len == 2 && c == 0xC2 && s[i + 1] < 0xA0)) {
				buf_put(b, UTF8_REPLACEMENT, 3);
				i += len == 0 ? bad : len;
			} else {
				buf_put(b, s + i, len);
				i += len;
			}
		}
	}
}

/*
 * json.c - JSON string escaping with U+FFFD for invalid UTF-8 (see json.h).
 */
#include <stdint.h>
#include <string.h>

#include "yima/util/json.h"
#include "yima/util/utf8.h"

void json_str(buf_t *b, const char *str, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *s = (const uint8_t *)str;
	size_t i = 0, run = 0;

	buf_putc(b, '"');
	while (i < n) {
		uint8_t c = s[i];
		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			/* copy runs of plain ASCII in one append */
			run = i;
			while (i < n && s[i] >= 0x20 && s[i] < 0x80 && s[i] != '"' && s[i] != '\\')
				i++;
			buf_put(b, s + run, i - run);
			continue;
		}
		if (c == '"' || c == '\\') {
			buf_putc(b, '\\');
			buf_putc(b, c);
			i++;
		} else if (c < 0x20) {
			char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
			switch (c) {
			case '\n': buf_put(b, "\\n", 2); break;
			case '\r': buf_put(b, "\\r", 2); break;
			case '\t': buf_put(b, "\\t", 2); break;
			default: buf_put(b, esc, 6); break;
			}
			i++;
		} else {
			size_t bad;
			size_t len = utf8_seq_len(s + i, n - i, &bad);
			if (len == 0) {
				buf_put(b, UTF8_REPLACEMENT, 3);
				i += bad;
			} else {
				buf_put(b, s + i, len);
				i += len;
			}
		}
	}
	buf_putc(b, '"');
}

void json_cstr_or_null(buf_t *b, const char *s, int empty_is_null)
{
	if (s == NULL || (empty_is_null && s[0] == '\0'))
		buf_put(b, "null", 4);
	else
		json_str(b, s, strlen(s));
}

/*
 * json.c - JSON string escaping with U+FFFD for invalid UTF-8 (see json.h).
 */
#include <stdint.h>
#include <string.h>

#include "json.h"

/*
 * Decode the UTF-8 sequence at s.  Returns its length (1-4) if valid, else
 * sets *bad to the length of the "maximal subpart" to replace with a
 * single U+FFFD (Unicode 15 section 3.9, what Python's errors="replace"
 * does) and returns 0.  Second-byte ranges exclude overlong forms,
 * surrogates and code points above U+10FFFF.
 */
static size_t utf8_seq_len(const uint8_t *s, size_t n, size_t *bad)
{
	uint8_t c = s[0];
	size_t len;
	uint8_t lo = 0x80, hi = 0xBF;

	*bad = 1;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		len = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		len = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		len = 4;
	else
		return 0;
	if (c == 0xE0)
		lo = 0xA0;
	else if (c == 0xED)
		hi = 0x9F;
	else if (c == 0xF0)
		lo = 0x90;
	else if (c == 0xF4)
		hi = 0x8F;
	for (size_t i = 1; i < len; i++) {
		if (i >= n || s[i] < lo || s[i] > hi) {
			*bad = i;
			return 0;
		}
		lo = 0x80;
		hi = 0xBF;
	}
	return len;
}

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
				buf_put(b, "\xEF\xBF\xBD", 3);	/* U+FFFD */
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

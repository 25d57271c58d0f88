package hook

import "strings"

// pythonCompat rewrites the Python operators "is not" and "is", which
// Starlark lacks, to != and ==, leaving strings and comments alone. Line
// breaks are kept, so error lines stay right.
func pythonCompat(src string) string {
	var b strings.Builder
	b.Grow(len(src))
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == '#':
			j := strings.IndexByte(src[i:], '\n')
			if j < 0 {
				j = len(src) - i
			}
			b.WriteString(src[i : i+j])
			i += j
		case c == '\'' || c == '"':
			j := stringEnd(src, i)
			b.WriteString(src[i:j])
			i = j
		case isIdentStart(c):
			j := i
			for j < len(src) && isIdentChar(src[j]) {
				j++
			}
			word := src[i:j]
			if word != "is" {
				// A string prefix (r"...", b'...') is part of the string.
				if j < len(src) && (src[j] == '\'' || src[j] == '"') && isStringPrefix(word) {
					k := stringEnd(src, j)
					b.WriteString(src[i:k])
					i = k
					continue
				}
				b.WriteString(word)
				i = j
				continue
			}
			k := j
			for k < len(src) && (src[k] == ' ' || src[k] == '\t') {
				k++
			}
			if k > j && strings.HasPrefix(src[k:], "not") && (k+3 == len(src) || !isIdentChar(src[k+3])) {
				b.WriteString("!=")
				i = k + 3
				continue
			}
			b.WriteString("==")
			i = j
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

// stringEnd returns the index just past the string literal starting with
// the quote at src[i] (single or triple quoted); an unterminated literal
// runs to the end of its line (or of the source, if triple quoted), and the
// parser reports it.
func stringEnd(src string, i int) int {
	q := src[i]
	if strings.HasPrefix(src[i:], strings.Repeat(string(q), 3)) {
		delim := strings.Repeat(string(q), 3)
		j := i + 3
		for j < len(src) {
			if src[j] == '\\' {
				j += 2
				continue
			}
			if strings.HasPrefix(src[j:], delim) {
				return j + 3
			}
			j++
		}
		return len(src)
	}
	j := i + 1
	for j < len(src) {
		switch src[j] {
		case '\\':
			j += 2
			continue
		case q:
			return j + 1
		case '\n':
			return j
		}
		j++
	}
	return len(src)
}

func isStringPrefix(w string) bool {
	switch strings.ToLower(w) {
	case "r", "b", "u", "rb", "br", "f", "rf", "fr":
		return true
	}
	return false
}

func isIdentStart(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c >= 0x80
}

func isIdentChar(c byte) bool { return isIdentStart(c) || '0' <= c && c <= '9' }

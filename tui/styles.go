package tui

import (
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// styles are built from one renderer so that the colour profile (and
// NO_COLOR) is decided once, not by lipgloss's global default. Every style
// that carries meaning is paired with a word or symbol in the text.
type styles struct {
	title, tab, tabActive, dim, bold, warn, bad, good, header, cursor, banner, key lipgloss.Style
}

func newStyles(r *lipgloss.Renderer) styles {
	s := r.NewStyle
	return styles{
		title:     s().Bold(true),
		tab:       s().Faint(true),
		tabActive: s().Bold(true).Reverse(true),
		dim:       s().Faint(true),
		bold:      s().Bold(true),
		warn:      s().Bold(true).Foreground(lipgloss.Color("3")),
		bad:       s().Bold(true).Foreground(lipgloss.Color("1")),
		good:      s().Foreground(lipgloss.Color("2")),
		header:    s().Bold(true).Underline(true),
		cursor:    s().Reverse(true),
		banner:    s().Bold(true).Foreground(lipgloss.Color("0")).Background(lipgloss.Color("3")),
		key:       s().Bold(true),
	}
}

// fit makes s exactly w cells wide: cut with an ellipsis, or padded.
func fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	n := ansi.StringWidth(s)
	if n > w {
		s = ansi.Truncate(s, w, "…")
		n = ansi.StringWidth(s)
	}
	if n < w {
		s += strings.Repeat(" ", w-n)
	}
	return s
}

// wrap breaks plain text into lines at most w cells wide.
func wrap(s string, w int) []string {
	if w < 10 {
		w = 10
	}
	var out []string
	for _, para := range strings.Split(s, "\n") {
		line := ""
		for _, word := range strings.Fields(para) {
			switch {
			case line == "":
				line = word
			case ansi.StringWidth(line)+1+ansi.StringWidth(word) <= w:
				line += " " + word
			default:
				out = append(out, line)
				line = word
			}
		}
		out = append(out, line)
	}
	return out
}

// wrapSegments wraps a line made of " · "-separated segments, breaking
// only between segments.
func wrapSegments(s string, w int) []string {
	var out []string
	line := ""
	for _, seg := range strings.Split(s, " · ") {
		switch {
		case line == "":
			line = seg
		case ansi.StringWidth(line)+3+ansi.StringWidth(seg) <= w:
			line += " · " + seg
		default:
			out = append(out, line)
			line = seg
		}
	}
	return append(out, line)
}

// window returns the lines of ls from offset off, at most h of them, with
// off clamped so that the window is full when it can be.
func window(ls []string, off, h int) ([]string, int) {
	if h <= 0 {
		return nil, 0
	}
	if off > len(ls)-h {
		off = len(ls) - h
	}
	if off < 0 {
		off = 0
	}
	end := min(off+h, len(ls))
	return ls[off:end], off
}

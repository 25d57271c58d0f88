package tui_test

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
	"github.com/google/go-cmp/cmp"
	"github.com/muesli/termenv"
)

// TestMeaningNotByColour renders screens in colour and without, and checks
// that the text is the same: whatever the colours say, the words and
// symbols say too.
func TestMeaningNotByColour(t *testing.T) {
	for _, s := range scenes() {
		if !strings.HasSuffix(s.name, "_80x24") {
			continue
		}
		t.Run(s.name, func(t *testing.T) {
			d := s.start(t)
			d.until("the estimate and the detail", func() bool { return !d.m.Estimating() && d.m.DetailReady() })
			d.m.SetProfile(termenv.TrueColor)
			colour := d.m.View()
			d.m.SetProfile(termenv.Ascii)
			plain := d.m.View()
			if !strings.Contains(colour, "\x1b[") {
				t.Errorf("no colour at all in the TrueColor view")
			}
			if strings.Contains(plain, "\x1b[") {
				t.Errorf("escape sequences in the Ascii view")
			}
			if diff := cmp.Diff(plain, ansi.Strip(colour)); diff != "" {
				t.Errorf("text differs between colour and no colour (-plain +colour):\n%s", diff)
			}
		})
	}
}

package tui

import (
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// keyMap holds every binding; help and the footer are generated from it.
type keyMap struct {
	Help, Quit, Next, Prev, Screen key.Binding

	Up, Down, PageUp, PageDown, Top, Bottom key.Binding

	Refetch, Filter, ClearFilter, Toggle, ToggleAll, Remember, Sort, Detail,
	ExplainUser, Approve, Exclusions, Forget key.Binding

	MissingOnly, Ask, Cancel, Open, Back, Reload key.Binding
}

func b(keys []string, help, desc string) key.Binding {
	return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
}

var keys = keyMap{
	Help:   b([]string{"?"}, "?", "help"),
	Quit:   b([]string{"q", "ctrl+c"}, "q", "quit"),
	Next:   b([]string{"tab"}, "tab", "next"),
	Prev:   b([]string{"shift+tab"}, "shift+tab", "previous"),
	Screen: b([]string{"1", "2", "3", "4", "5", "6"}, "1-6", "screen"),

	Up:       b([]string{"up", "k"}, "↑/k", "up"),
	Down:     b([]string{"down", "j"}, "↓/j", "down"),
	PageUp:   b([]string{"pgup", "ctrl+b"}, "pgup", "page up"),
	PageDown: b([]string{"pgdown", "ctrl+f"}, "pgdn", "page down"),
	Top:      b([]string{"home", "g"}, "g", "top"),
	Bottom:   b([]string{"end", "G"}, "G", "bottom"),

	Refetch:     b([]string{"r"}, "r", "fetch again"),
	Filter:      b([]string{"/"}, "/", "filter"),
	ClearFilter: b([]string{"esc"}, "esc", "clear filter"),
	Toggle:      b([]string{" "}, "space", "exclude"),
	ToggleAll:   b([]string{"a"}, "a", "exclude all shown"),
	Remember:    b([]string{"x"}, "x", "remember"),
	Sort:        b([]string{"s"}, "s", "sort"),
	Detail:      b([]string{"enter"}, "enter", "detail"),
	ExplainUser: b([]string{"e"}, "e", "explain"),
	Approve:     b([]string{"A"}, "A", "apply…"),
	Exclusions:  b([]string{"E"}, "E", "remembered"),
	Forget:      b([]string{"d"}, "d", "forget exclusion"),

	MissingOnly: b([]string{"m"}, "m", "missing only"),
	Ask:         b([]string{"enter"}, "enter", "explain"),
	Cancel:      b([]string{"c"}, "c", "cancel"),
	Open:        b([]string{"enter"}, "enter", "open"),
	Back:        b([]string{"esc"}, "esc", "back"),
	Reload:      b([]string{"r"}, "r", "reload"),
}

// scrollKey moves a scrolled pane's offset for the up, down, page-up and
// page-down keys, page lines at a time for the page keys. It reports
// whether msg was one of them.
func scrollKey(msg tea.KeyMsg, off *int, page int) bool {
	switch {
	case key.Matches(msg, keys.Up):
		*off = max(*off-1, 0)
	case key.Matches(msg, keys.Down):
		*off++
	case key.Matches(msg, keys.PageUp):
		*off = max(*off-page, 0)
	case key.Matches(msg, keys.PageDown):
		*off += page
	default:
		return false
	}
	return true
}

package tui

import (
	"context"
	"errors"

	tea "github.com/charmbracelet/bubbletea"
)

// Run runs the console until the operator quits or ctx is cancelled. When
// the operator quits during an apply, Run returns once the request in
// flight has finished, so that the journal records it.
//
// When ctx is cancelled, Run returns ctx's error (the caller's cue for
// "interrupted").
func Run(ctx context.Context, b Backend, opts Options) error {
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	m := NewModel(ctx, b, opts)
	po := []tea.ProgramOption{tea.WithContext(ctx)}
	if opts.Input != nil {
		po = append(po, tea.WithInput(opts.Input))
	}
	if opts.Output != nil {
		po = append(po, tea.WithOutput(opts.Output))
	}
	if opts.AltScreen {
		po = append(po, tea.WithAltScreen())
	}
	_, err := tea.NewProgram(m, po...).Run()
	cancel()
	close(m.stop)
	m.applying.Wait()
	if errors.Is(err, tea.ErrProgramKilled) && parent.Err() != nil {
		return parent.Err()
	}
	return err
}

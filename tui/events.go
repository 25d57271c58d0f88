package tui

import (
	tea "github.com/charmbracelet/bubbletea"

	"github.com/usersync/usersync/core"
	"github.com/usersync/usersync/core/run"
)

// The messages of background runs. Each carries the ID of the run that
// produced it; the model drops messages whose run is no longer current.
type (
	progressMsg struct {
		run int
		p   core.Progress
	}
	throttleMsg struct {
		run int
		w   core.ThrottleWait
	}
	changeDoneMsg struct {
		run int
		r   core.ChangeResult
	}
	// planReadyMsg ends a fetch: the snapshot, the plan and everything the
	// review needs, prepared off the UI goroutine.
	planReadyMsg struct {
		run      int
		snap     *core.Snapshot
		plan     *core.Plan
		list     *changeList
		mappings []MappingRow
		est      Cost
		err      error
		stage    string // where err happened: fetch or plan
	}
	appliedMsg struct {
		run int
		out *run.Outcome
	}
	explainedMsg struct {
		run int
		ex  *core.Explanation
		err error
	}
	historyMsg struct {
		run  int
		runs []RunSummary
		err  error
	}
	runDetailMsg struct {
		run int
		d   *RunDetail
		err error
	}
	tickMsg   struct{ run int }
	detailMsg struct {
		run int
		row int32
		d   ChangeDetail
	}
	estimateMsg struct {
		run int
		est Cost
	}
)

// reporter forwards a run's progress to the model's event channel. It
// blocks while the channel is full (the UI reads it continuously) and gives
// up once the console has stopped.
type reporter struct {
	run  int
	ch   chan<- tea.Msg
	stop <-chan struct{}
}

func (r reporter) send(m tea.Msg) {
	select {
	case r.ch <- m:
	case <-r.stop:
	}
}

// Progress implements core.Reporter.
func (r reporter) Progress(p core.Progress) { r.send(progressMsg{r.run, p}) }

// Throttled implements core.Reporter.
func (r reporter) Throttled(w core.ThrottleWait) { r.send(throttleMsg{r.run, w}) }

// ChangeDone implements core.Reporter.
func (r reporter) ChangeDone(c core.ChangeResult) { r.send(changeDoneMsg{r.run, c}) }

// waitEvent returns the next event of any background run. The model re-arms
// it after each event, so exactly one is pending at a time.
func waitEvent(ch <-chan tea.Msg, stop <-chan struct{}) tea.Cmd {
	return func() tea.Msg {
		select {
		case m := <-ch:
			return m
		case <-stop:
			return nil
		}
	}
}

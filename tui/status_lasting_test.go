package tui

import (
	"errors"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/meshtop/meshtop/mesh"
)

type lastingErr struct{ error }

func (lastingErr) StatusFor() time.Duration { return time.Minute }

// A feed error that says how long it stays (discovery: a refused inventory edit) outlives
// the grid updates that clear any other error; a plain one goes with the next update.
func TestStatusKeepsLastingErrors(t *testing.T) {
	m := New(StoreSource{Store: mesh.NewStore(1)}, Config{})
	var model tea.Model = m
	model, _ = model.Update(tea.WindowSizeMsg{Width: 200, Height: 40})
	model, _ = model.Update(SourceErrMsg{Err: lastingErr{errors.New("agents.yaml:4: pop is missing (refused)")}})
	model, _ = model.Update(SourceErrMsg{Err: errors.New("sweep now refused")})
	model, _ = model.Update(matrixMsg{m: mesh.NewStore(1).Matrix()})
	s := model.(Model).status.rendered
	if !strings.Contains(s, "agents.yaml:4: pop is missing") {
		t.Errorf("the lasting error went with a grid update: %q", s)
	}
	if strings.Contains(s, "sweep now refused") {
		t.Errorf("a plain error stayed after a grid update: %q", s)
	}
}

type noticeErr struct{ lastingErr }

func (noticeErr) Notice() bool { return true }

// A lasting notice (discovery placed an agent by its reverse DNS name) is a note, not an
// error: it comes after what needs action, and an error of the same moment leads.
func TestStatusSaysNoticesAsNotes(t *testing.T) {
	m := New(StoreSource{Store: mesh.NewStore(1)}, Config{})
	var model tea.Model = m
	model, _ = model.Update(tea.WindowSizeMsg{Width: 300, Height: 40})
	model, _ = model.Update(SourceErrMsg{Err: noticeErr{lastingErr{errors.New("agent 127.0.0.4 says no PoP: shown as lon1")}}})
	model, _ = model.Update(SourceErrMsg{Err: lastingErr{errors.New("agents.yaml:4: pop is missing")}})
	model, _ = model.Update(matrixMsg{m: mesh.NewStore(1).Matrix()})
	s := model.(Model).status.rendered
	note, err := strings.Index(s, "note: agent 127.0.0.4 says no PoP"), strings.Index(s, "error: agents.yaml:4")
	if note < 0 || err < 0 || note < err {
		t.Errorf("want the error first, then the note: %q", s)
	}
	if strings.Contains(s, "error: agent 127.0.0.4") {
		t.Errorf("a notice said as an error: %q", s)
	}
}

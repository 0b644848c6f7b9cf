package tui

import (
	"os"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

func TestZZDebug(t *testing.T) {
	if os.Getenv("DBG") == "" {
		t.Skip()
	}
	m := newDetailModel(t, 160, 48, Config{}, "ams", "fra")
	t.Log("\n" + ansi.Strip(m.View().Content))
	m = newDetailModel(t, 80, 24, Config{}, "ams", "fra")
	t.Log("\n" + ansi.Strip(m.View().Content))
	t.Log("\n" + ansi.Strip(m.detail.vp.GetContent()))
}

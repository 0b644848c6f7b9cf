package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/meshtop/meshtop/probe/scoutertest"
)

// TestSnapshotHostileAgentText: issue 10 item 9. An agent whose error body carries
// escape sequences must not set the title, clear the screen or add lines in any format.
func TestSnapshotHostileAgentText(t *testing.T) {
	t.Setenv("SCOUTER_SECRET", testSecret)
	hostile := func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"bad \u001b]0;T\u0007\u001b[2J\nx"}`))
		return true
	}
	inv := writeInventory(t,
		fakeAgent{"ams", scoutertest.Config{RTT: fixedRTT(20)}},
		fakeAgent{"bad", scoutertest.Config{Raw: hostile}},
	)
	for _, format := range []string{"table", "json", "csv"} {
		t.Run(format, func(t *testing.T) {
			out, _, err := runCLI(t, "snapshot", "--inventory", inv, "--format", format)
			if err != nil {
				t.Fatal(err)
			}
			if strings.ContainsAny(out, "\x1b\x07") {
				t.Errorf("output carries escape characters:\n%q", out)
			}
			if !strings.Contains(out, "bad ]0;T[2J x") {
				t.Errorf("the agent's message should be shown, cleaned:\n%s", out)
			}
			if format == "table" {
				for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
					if line == "x" || strings.HasPrefix(line, "x") {
						t.Errorf("the body's newline started a line of its own:\n%s", out)
					}
				}
			}
		})
	}
}

package influx

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meshtop/meshtop/influx/influxtest"
)

// One influxd for the tests that need no server of their own (no auth, no restarts):
// each gets a database of its own on it, so they stay independent at a fraction of the
// start-up and memory of one server each.
var shared struct {
	once sync.Once
	srv  *influxtest.Server
	dir  string
	err  error
	n    atomic.Int64
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.srv != nil {
		_ = shared.srv.Stop()
		_ = os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

// sharedDB returns the package's influxd and a config for a new, empty database on it.
func sharedDB(t *testing.T) (*influxtest.Server, Config) {
	t.Helper()
	if _, err := influxtest.FindBinary(""); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true and %v", err)
		}
		t.Skip(err)
	}
	shared.once.Do(func() {
		shared.dir, shared.err = os.MkdirTemp("", "mt-influx-shared-")
		if shared.err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		shared.srv, shared.err = influxtest.Launch(ctx, shared.dir, influxtest.Options{})
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	db := fmt.Sprintf("t%03d", shared.n.Add(1))
	if err := shared.srv.CreateDatabase(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = shared.srv.Exec(context.Background(), "", "DROP DATABASE "+QuoteIdent(db)) })
	return shared.srv, Config{URL: shared.srv.URL, Database: db, Timeout: 30 * time.Second}
}

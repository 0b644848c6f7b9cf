package live

import (
	"testing"
	"time"
)

// TestFeedChanged: Changed reaches a subscriber as an update that says "re-read".
func TestFeedChanged(t *testing.T) {
	f := NewFeed()
	got := make(chan Update, 4)
	sub := f.Subscribe(func(u Update) { got <- u })
	defer sub.Close()
	<-got // the snapshot a new subscriber starts with
	f.Changed()
	select {
	case u := <-got:
		if !u.Changed || u.Done != nil || len(u.Errors) != 0 {
			t.Errorf("update %+v, want only Changed", u)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no update after Changed")
	}
}

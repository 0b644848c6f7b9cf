package live

import (
	"fmt"
	"testing"

	"github.com/meshtop/meshtop/probe"
)

// BenchmarkFeedPublish is the sweeper's cost of one result event with n subscribers,
// one of them stuck (its pending update only merges).
func BenchmarkFeedPublish(b *testing.B) {
	for _, n := range []int{1, 10, 50} {
		b.Run(fmt.Sprintf("subscribers=%d", n), func(b *testing.B) {
			f := NewFeed()
			stuck := make(chan struct{})
			defer close(stuck)
			for i := range n {
				var s *Subscription
				if i == 0 {
					s = f.Subscribe(func(Update) { <-stuck })
				} else {
					s = f.Subscribe(func(Update) {})
				}
				defer s.Close()
			}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				f.Event(probe.PingEvent{})
				f.Event(probe.ProgressEvent{Done: i + 1, Total: 1 << 30})
			}
		})
	}
}

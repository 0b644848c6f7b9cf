package influx

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkCheckAnswer: the counting pass over a grid answer of 2,450 pairs (every
// aggregate of a step), beside the decoding it guards.
func BenchmarkCheckAnswer(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"results":[{"statement_id":0,"series":[`)
	for i := range 2450 {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"name":"ping","tags":{"dst_pop":"p%02d","src_pop":"q%02d"},"columns":["time","avg_rtt_ms_mean","avg_rtt_ms_max","jitter_pct_mean","loss_pct_mean","n"],"values":[["1970-01-01T00:00:00Z",123.456789,234.5678,3.14159,0.5,1440]]}`, i%50, i/50)
	}
	sb.WriteString(`]}]}`)
	data := []byte(sb.String())
	b.Run("check", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if _, err := checkAnswer(data, answerLimits{results: 1, perSeries: 1}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if _, err := unmarshalAnswer(data); err != nil {
				b.Fatal(err)
			}
		}
	})
}

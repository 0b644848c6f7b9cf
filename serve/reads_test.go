package serve

import (
	"context"
	"testing"
	"time"

	"github.com/meshtop/meshtop/mesh"
	"github.com/meshtop/meshtop/tui"
)

// stubReads answers with values the store does not have.
type stubReads struct{}

func (stubReads) Matrix(context.Context) (*mesh.Matrix, error) {
	return mesh.NewMatrix(time.Unix(1, 0), "live+shards", []string{"x"}, nil, nil), nil
}
func (stubReads) PairHistory(context.Context, string, string, int) ([]mesh.Sample, error) {
	return []mesh.Sample{{AvgRTT: 7}}, nil
}
func (stubReads) PairTraces(context.Context, string, string) ([]mesh.TraceResult, error) {
	return []mesh.TraceResult{{FinalHopTTL: 9}}, nil
}

// TestSessionSourceReads: with Config.Reads every session reads through it (InfluxDB
// behind the store, other shards' pairs); without, the store; sweep-now stays the store's.
func TestSessionSourceReads(t *testing.T) {
	ctx := context.Background()
	store := mesh.NewStore(3)
	plain := sessionSource{StoreSource: tui.StoreSource{Store: store}}
	blended := sessionSource{StoreSource: tui.StoreSource{Store: store}, reads: stubReads{}}
	if m, _ := plain.Matrix(ctx); m.Source != "live" {
		t.Errorf("without Reads: matrix from %q, want the store's", m.Source)
	}
	if m, _ := blended.Matrix(ctx); m.Source != "live+shards" {
		t.Errorf("with Reads: matrix from %q", m.Source)
	}
	if h, _ := blended.PairHistory(ctx, "a", "b", 10); len(h) != 1 || h[0].AvgRTT != 7 {
		t.Errorf("with Reads: history %+v", h)
	}
	if tr, _ := blended.PairTraces(ctx, "a", "b"); len(tr) != 1 || tr[0].FinalHopTTL != 9 {
		t.Errorf("with Reads: traces %+v", tr)
	}
	if h, _ := plain.PairHistory(ctx, "a", "b", 10); len(h) != 0 {
		t.Errorf("without Reads: history %+v, want the empty store's", h)
	}
	if !blended.Capabilities().Sweeps {
		t.Error("the blended session lost the store's capabilities")
	}
}

package tui

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/meshtop/meshtop/mesh"
)

func benchMatrix(n int, bump float64) *mesh.Matrix {
	st := mesh.NewStore(1)
	pops := make([]string, n)
	for i := range pops {
		pops[i] = fmt.Sprintf("p%03d", i)
	}
	for i, s := range pops {
		for j, d := range pops {
			if i == j {
				continue
			}
			v := float64((i*7+j*13)%1200) + 1
			if i == 1 && j == 2 {
				v = 100 + bump
			}
			r := mesh.PingResult{Time: t0, Src: s, SrcPop: s, DstPop: d}
			r.DerivePing(1, []float64{v}, -1)
			st.AddPing(r)
		}
	}
	return st.Matrix()
}

// benchmarkRender measures one grid frame (what a data, selection or size change costs)
// on a 200x60 terminal.
func benchmarkRender(b *testing.B, n int) {
	m := New(StoreSource{Store: mesh.NewStore(1)}, Config{})
	nm, _ := m.Update(tea.WindowSizeMsg{Width: 200, Height: 60})
	m = nm.(Model)
	nm, _ = m.Update(matrixMsg{m: benchMatrix(n, 0)})
	m = nm.(Model)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		m.grid.step(i%2*2-1, 0) // a selection change re-renders the grid
		m.compose()
	}
}

func BenchmarkGridRender100(b *testing.B) { benchmarkRender(b, 100) }
func BenchmarkGridRender300(b *testing.B) { benchmarkRender(b, 300) }

// benchmarkRenderPanel measures a frame with the panel on a terminal tall enough to keep
// it under a large grid: a cursor move re-renders grid and panel.
func benchmarkRenderPanel(b *testing.B, n, w, h int, regions bool) {
	m := New(StoreSource{Store: mesh.NewStore(1)}, Config{})
	nm, _ := m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	m = nm.(Model)
	mx := benchMatrix(n, 0)
	if regions {
		mx = withRegions(mx, 8)
	}
	nm, _ = m.Update(matrixMsg{m: mx})
	m = nm.(Model)
	if !m.grid.panel.visible {
		b.Fatal("no panel")
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		code := tea.KeyDown
		if i%2 == 1 {
			code = tea.KeyUp
		}
		nm, _ = m.Update(tea.KeyPressMsg{Code: code})
		m = nm.(Model)
	}
}

// withRegions labels the PoPs of a matrix with k regions.
func withRegions(mx *mesh.Matrix, k int) *mesh.Matrix {
	agents := make([]mesh.AgentStatus, len(mx.Pops))
	for i, p := range mx.Pops {
		agents[i] = mesh.AgentStatus{Agent: mesh.Agent{Name: p, Pop: p, Labels: map[string]string{"region": fmt.Sprintf("r%d", i%k)}}, State: mesh.StateOK}
	}
	st := mesh.NewStore(1)
	st.SetAgents(agents)
	for _, s := range mx.Pops {
		for _, d := range mx.Pops {
			if c := mx.Cell(s, d); c != nil {
				r := mesh.PingResult{Time: t0, Src: s, SrcPop: s, DstPop: d}
				r.DerivePing(1, []float64{c.Last.AvgRTT}, -1)
				st.AddPing(r)
			}
		}
	}
	return st.Matrix()
}

func BenchmarkGridPanel300(b *testing.B)        { benchmarkRenderPanel(b, 300, 200, 60, false) }
func BenchmarkGridPanel300Regions(b *testing.B) { benchmarkRenderPanel(b, 300, 200, 60, true) }
func BenchmarkGridPanelSmall(b *testing.B)      { benchmarkRenderPanel(b, 12, 160, 48, false) }

// benchmarkNewData measures taking a new matrix: reordering (sort by worst) and render.
func benchmarkNewData(b *testing.B, n int) {
	m := New(StoreSource{Store: mesh.NewStore(1)}, Config{})
	nm, _ := m.Update(tea.WindowSizeMsg{Width: 200, Height: 60})
	m = nm.(Model)
	m.grid.sort = sortWorst
	mx := benchMatrix(n, 0)
	b.ResetTimer()
	for range b.N {
		nm, _ = m.Update(matrixMsg{m: mx})
		m = nm.(Model)
	}
}

func BenchmarkNewDataSortWorst100(b *testing.B) { benchmarkNewData(b, 100) }
func BenchmarkNewDataSortWorst300(b *testing.B) { benchmarkNewData(b, 300) }

// syncBuf is the program's terminal.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Len()
}

// settle waits until the renderer has written something new and then nothing for a
// while (it flushes on its own frame clock).
func settle(buf *syncBuf, from int) int {
	deadline := time.Now().Add(5 * time.Second)
	last, since := buf.Len(), time.Now()
	for time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
		if n := buf.Len(); n != last {
			last, since = n, time.Now()
		} else if last > from && time.Since(since) > 60*time.Millisecond {
			break
		}
	}
	return last
}

// BenchmarkOneCellChangeBytes reports the bytes the real renderer writes to the terminal
// when one cell's value changes (100x100 mesh, 120x40 terminal).
func BenchmarkOneCellChangeBytes(b *testing.B) {
	buf := &syncBuf{}
	p := tea.NewProgram(New(StoreSource{Store: mesh.NewStore(1)}, Config{}),
		tea.WithOutput(buf), tea.WithInput(nil), tea.WithWindowSize(120, 40), tea.WithoutSignals())
	done := make(chan struct{})
	go func() { _, _ = p.Run(); close(done) }()
	p.Send(matrixMsg{m: benchMatrix(100, 0)})
	n := settle(buf, 0)
	var total int
	b.ResetTimer()
	for i := range b.N {
		p.Send(matrixMsg{m: benchMatrix(100, float64(i%2*3+1))})
		after := settle(buf, n)
		total += after - n
		n = after
	}
	b.StopTimer()
	b.ReportMetric(float64(total)/float64(b.N), "bytes/change")
	p.Quit()
	<-done
}

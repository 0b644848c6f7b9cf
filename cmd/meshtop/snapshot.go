package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/meshtop/meshtop/tui"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"github.com/meshtop/meshtop/internal/textsafe"
	"github.com/meshtop/meshtop/mesh"
	"github.com/meshtop/meshtop/probe"
)

type snapshotOptions struct {
	disc     discoveryOptions
	probe    probeOptions
	th       thresholdOptions
	influx   influxOptions
	rec      recordOptions
	source   string
	format   string
	metric   string
	stat     string
	failOn   string
	palette  string
	timeout  time.Duration
	interval time.Duration
}

func init() { register(newSnapshotCmd) }

func newSnapshotCmd() *cobra.Command {
	o := &snapshotOptions{}
	cmd := &cobra.Command{
		Use:   "snapshot",
		Short: "Run one sweep, print the mesh and exit",
		Long: `Run one full-mesh sweep (every agent pings every other agent) and print the
PoP-by-PoP mesh as a table, JSON or CSV; with --traceroute also the traces
(JSON: hops and AS path per pair; table: a summary line per pair). Cells show
health by default: the worst of latency, jitter (ms) and loss, the value that
decided it marked with its metric (12% loss, ±12 jitter ms, a bare number is
latency); a test that got nothing back is FAIL. Exit status 2 with --fail-on
when any cell is at or above the given colour (the message names the pairs and
what failed), 3 when no agent could be used at all (every one down or refusing).`,
		Example: `  SCOUTER_SECRET=... meshtop snapshot --inventory agents.yaml
  meshtop snapshot --inventory agents.yaml --format json --metric loss
  meshtop snapshot --inventory agents.yaml --count 20 --fail-on red
  meshtop snapshot --stack-id my-stack --workload-id 1234 --fail-on red
  meshtop snapshot --source influx --window 24h --stat p95 --format csv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSnapshot(cmd.Context(), o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	addDiscoveryFlags(cmd, &o.disc)
	addProbeFlags(cmd, &o.probe)
	addThresholdFlags(cmd, &o.th)
	addInfluxFlags(cmd, &o.influx)
	addRecordFlags(cmd, &o.rec)
	f := cmd.Flags()
	f.StringVar(&o.source, "source", "live", "live (one sweep through the agents) or influx (history over --window)")
	f.StringVar(&o.format, "format", "table", "output format: table, json or csv")
	f.StringVar(&o.metric, "metric", "health", "health (the worst of latency, jitter ms and loss) or one metric: "+mesh.MetricNames())
	f.StringVar(&o.stat, "stat", "", "stat over the window: last, mean, max or p95 (default: last live,\nmean from influx, as the workshop's dashboards)")
	f.StringVar(&o.palette, "palette", tui.PaletteDefault, "table colours: default or colorblind (NO_COLOR turns colour off)")
	f.StringVar(&o.failOn, "fail-on", "", "exit 2 when any cell is at or above this colour (under --metric, health by default): yellow, orange or red")
	f.DurationVar(&o.interval, "interval", 60*time.Second, "with --source influx: the collector's sweep interval; a pair whose newest test is\nolder than two of them reads stale (its age, no colour); 0: never")
	f.DurationVar(&o.timeout, "timeout", 0, "give up on agents that have not finished after this long (default: from --count)")
	return cmd
}

func runSnapshot(ctx context.Context, o *snapshotOptions, out, errOut io.Writer) error {
	switch o.source {
	case "live":
	case "influx":
		if o.stat == "" {
			o.stat = "mean"
		}
	default:
		return fmt.Errorf("--source %q: want live or influx", o.source)
	}
	if o.stat == "" {
		o.stat = "last"
	}
	view, err := o.view()
	if err != nil {
		return err
	}
	if o.source == "influx" {
		if o.probe.traceroute {
			return fmt.Errorf("--traceroute goes with --source live (it runs traceroutes)")
		}
		if o.rec.url != "" {
			return fmt.Errorf("--record goes with --source live (history is already in InfluxDB)")
		}
		r, err := o.influx.reader()
		if err != nil {
			return err
		}
		if o.interval < 0 {
			return fmt.Errorf("--interval %s: want 0 (never stale) or more", o.interval)
		}
		view.staleAfter, view.now = 2*o.interval, time.Now()
		m, err := view.readInflux(ctx, r, view.now)
		if err != nil {
			return fmt.Errorf("read the mesh from InfluxDB: %w", err)
		}
		if view.format == "csv" {
			// CSV has no place for them; the table and JSON carry their own.
			for _, n := range view.notes {
				fmt.Fprintln(errOut, "note:", n)
			}
		}
		return view.print(out, m)
	}
	if err := o.probe.validate(); err != nil {
		return err
	}
	secret, agents, err := o.disc.discover(ctx)
	o.disc.notices.print(os.Stderr)
	if err != nil {
		return err
	}
	rec, err := o.rec.recorder(ctx)
	if err != nil {
		return err
	}
	opts := o.probe.options(secret)
	opts.Timeout = o.timeout
	sw := probe.Run(ctx, agents, opts, nil)
	if ctx.Err() != nil {
		return fmt.Errorf("sweep interrupted: %w", ctx.Err())
	}
	if rec != nil {
		rec.Record(sw)
		if err := closeRecorder(rec); err != nil {
			return err
		}
	}
	// The store judges each pair as live does: the loss class on the evidence of the
	// sweep's probes (one 5-probe test: 3 lost is surely red, 1 lost is not), FAIL at once.
	store := mesh.NewStore(1)
	store.SetJudgement(mesh.Judgement{Thresholds: view.th})
	store.SetAgents(sw.Agents)
	for _, r := range sw.Pings {
		store.AddPing(r)
	}
	m := store.Matrix()
	m.Time = sw.Time
	var traces []mesh.TraceResult
	if o.probe.traceroute {
		traces = slices.Clone(sw.Traces)
		slices.SortFunc(traces, func(a, b mesh.TraceResult) int {
			return cmp.Or(cmp.Compare(a.SrcPop, b.SrcPop), cmp.Compare(a.DstPop, b.DstPop),
				cmp.Compare(a.Src, b.Src), cmp.Compare(a.DstName, b.DstName))
		})
		if traces == nil {
			traces = []mesh.TraceResult{}
		}
	}
	view.traces = traces
	if err := view.print(out, m); err != nil {
		return err
	}
	return allDown(sw.Agents)
}

// allDown is exit status 3 when not one agent could be used: the output then holds no
// measurement at all, which a script must not read as a healthy (empty) mesh.
func allDown(agents []mesh.AgentStatus) error {
	if len(agents) == 0 {
		return nil
	}
	for _, a := range agents {
		if !a.State.Failing() {
			return nil
		}
	}
	first := agents[0]
	return exitError{code: 3, err: fmt.Errorf("every agent is down (%d of %d), e.g. %s", len(agents), len(agents), first.Error)}
}

// snapshotView is how a matrix is printed and judged.
type snapshotView struct {
	format string
	view   mesh.View // health or one metric
	stat   mesh.Stat
	th     map[mesh.Metric]mesh.Thresholds
	failOn mesh.Class
	color  bool
	// paint is the class colours of the table (--palette), from the TUI's palette.
	paint map[mesh.Class]string
	// traces of the sweep, sorted by pair; nil when no traceroutes ran.
	traces []mesh.TraceResult
	// window and notes of a history snapshot: the range read, how much of it holds
	// data, where the values come from and what they lack.
	window *windowJSON
	notes  []string
	// staleAfter: a pair whose newest test is older than this at now is stale (history);
	// 0: never.
	staleAfter time.Duration
	now        time.Time
}

// verdict is what the cell src→dst says, and how old its newest test is when that makes
// it stale (its class is then mesh.Stale: old data never passes for healthy).
func (v *snapshotView) verdict(m *mesh.Matrix, src, dst string) (mesh.Verdict, time.Duration) {
	vd := m.Verdict(src, dst, v.view, v.stat, v.th)
	c := m.Cell(src, dst)
	if v.staleAfter <= 0 || vd.Class == mesh.Unreachable || c == nil || c.Samples == 0 || c.Last.Time.IsZero() {
		return vd, 0
	}
	if age := v.now.Sub(c.Last.Time); age > v.staleAfter {
		vd.Class = mesh.Stale
		return vd, age
	}
	return vd, 0
}

func (o *snapshotOptions) view() (*snapshotView, error) {
	v := &snapshotView{format: o.format}
	var err error
	switch o.format {
	case "table", "json", "csv":
	default:
		return nil, fmt.Errorf("--format %q: want table, json or csv", o.format)
	}
	if v.view, err = mesh.ParseView(o.metric); err != nil {
		return nil, fmt.Errorf("--metric: %w", err)
	}
	if v.stat, err = mesh.ParseStat(o.stat); err != nil {
		return nil, fmt.Errorf("--stat: %w", err)
	}
	if v.th, err = o.th.thresholds(); err != nil {
		return nil, err
	}
	switch o.palette {
	case tui.PaletteDefault, tui.PaletteColorblind, "":
		v.paint = tui.ClassSGR(o.palette)
	default:
		return nil, fmt.Errorf("--palette %q: want %s or %s", o.palette, tui.PaletteDefault, tui.PaletteColorblind)
	}
	if o.failOn != "" {
		if v.failOn, err = mesh.ParseClass(o.failOn); err != nil {
			return nil, fmt.Errorf("--fail-on: %w", err)
		}
	}
	return v, nil
}

// print writes the matrix (and the traces, when traceroutes ran) and applies --fail-on.
func (v *snapshotView) print(out io.Writer, m *mesh.Matrix) error {
	if f, ok := out.(*os.File); ok && v.format == "table" {
		v.color = term.IsTerminal(f.Fd()) && os.Getenv("NO_COLOR") == ""
	}
	var err error
	switch v.format {
	case "json":
		err = writeJSON(out, m, v)
	case "csv":
		err = writeCSV(out, m, v)
	default:
		err = writeTable(out, m, v)
		if err == nil && v.traces != nil {
			err = writeTraceTable(out, v.traces)
		}
	}
	if err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	if v.failOn != mesh.NoData {
		if faults := atFault(m, v); len(faults) > 0 {
			names := faults
			if len(names) > 10 {
				names = append(names[:10:10], fmt.Sprintf("and %d more", len(faults)-10))
			}
			return exitError{code: 2, err: fmt.Errorf("%d %s at or above --fail-on %s: %s",
				len(faults), plural(len(faults), "pair", "pairs"), v.failOn, strings.Join(names, ", "))}
		}
	}
	return nil
}

// atFault names the pairs at or above --fail-on, worst first, and what failed:
// "lon→nyc (red: loss 60 %)", "ams→jfk (red: FAIL)", "syd→ams (unreachable: refused)".
func atFault(m *mesh.Matrix, v *snapshotView) []string {
	type fault struct {
		s, d string
		vd   mesh.Verdict
	}
	var fs []fault
	for _, s := range m.Pops {
		for _, d := range m.Pops {
			if s == d && m.Cell(s, d) == nil {
				continue
			}
			if vd, _ := v.verdict(m, s, d); vd.Class != mesh.NoData && vd.Class.Severity() >= v.failOn.Severity() {
				fs = append(fs, fault{s, d, vd})
			}
		}
	}
	slices.SortStableFunc(fs, func(a, b fault) int { return cmp.Compare(b.vd.Class.Severity(), a.vd.Class.Severity()) })
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = fmt.Sprintf("%s→%s (%s: %s)", f.s, f.d, f.vd.Class, why(m, f.s, f.vd))
	}
	return out
}

// why says what put a cell at fault: the metric and its value, FAIL, or the agent error.
func why(m *mesh.Matrix, src string, vd mesh.Verdict) string {
	switch {
	case vd.Class == mesh.Unreachable:
		e, _ := m.SourceDown(src)
		return textsafe.Message(e)
	case vd.Failed:
		return "FAIL, nothing came back"
	}
	return fmt.Sprintf("%s %s %s", vd.Metric, mesh.FormatValue(vd.Metric, vd.Value, false), vd.Metric.Unit())
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

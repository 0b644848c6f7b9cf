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

	"github.com/meshtop/meshtop/mesh"
	"github.com/meshtop/meshtop/probe"
)

type snapshotOptions struct {
	disc    discoveryOptions
	probe   probeOptions
	th      thresholdOptions
	influx  influxOptions
	rec     recordOptions
	source  string
	format  string
	metric  string
	stat    string
	failOn  string
	palette string
	timeout time.Duration
}

func init() { register(newSnapshotCmd) }

func newSnapshotCmd() *cobra.Command {
	o := &snapshotOptions{}
	cmd := &cobra.Command{
		Use:   "snapshot",
		Short: "Run one sweep, print the mesh and exit",
		Long: `Run one full-mesh sweep (every agent pings every other agent) and print the
PoP-by-PoP mesh as a table, JSON or CSV; with --traceroute also the traces
(JSON: hops and AS path per pair; table: a summary line per pair). Exit status 2
with --fail-on when any cell is at or above the given colour (the message names
the pairs), 3 when no agent could be used at all (every one down or refusing).`,
		Example: `  SCOUTER_SECRET=... meshtop snapshot --inventory agents.yaml
  meshtop snapshot --inventory agents.yaml --format json --metric loss
  meshtop snapshot --stack-id my-stack --workload-id 1234 --fail-on red
  meshtop snapshot --source influx --window 24h --stat p95 --format csv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runSnapshot(cmd.Context(), o, cmd.OutOrStdout()) },
	}
	addDiscoveryFlags(cmd, &o.disc)
	addProbeFlags(cmd, &o.probe)
	addThresholdFlags(cmd, &o.th)
	addInfluxFlags(cmd, &o.influx)
	addRecordFlags(cmd, &o.rec)
	f := cmd.Flags()
	f.StringVar(&o.source, "source", "live", "live (one sweep through the agents) or influx (history over --window)")
	f.StringVar(&o.format, "format", "table", "output format: table, json or csv")
	f.StringVar(&o.metric, "metric", "latency", "metric: "+mesh.MetricNames())
	f.StringVar(&o.stat, "stat", "", "stat over the window: last, mean, max or p95 (default: last live,\nmean from influx, as the workshop's dashboards)")
	f.StringVar(&o.palette, "palette", tui.PaletteDefault, "table colours: default or colorblind (NO_COLOR turns colour off)")
	f.StringVar(&o.failOn, "fail-on", "", "exit 2 when any cell is at or above this colour: yellow, orange or red")
	f.DurationVar(&o.timeout, "timeout", 0, "give up on agents that have not finished after this long (default: from --count)")
	return cmd
}

func runSnapshot(ctx context.Context, o *snapshotOptions, out io.Writer) error {
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
		m, err := r.Matrix(ctx)
		if err != nil {
			return fmt.Errorf("read the mesh from InfluxDB: %w", err)
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
	store := mesh.NewStore(1)
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
	metric mesh.Metric
	stat   mesh.Stat
	th     map[mesh.Metric]mesh.Thresholds
	failOn mesh.Class
	color  bool
	// paint is the class colours of the table (--palette), from the TUI's palette.
	paint map[mesh.Class]string
	// traces of the sweep, sorted by pair; nil when no traceroutes ran.
	traces []mesh.TraceResult
}

func (o *snapshotOptions) view() (*snapshotView, error) {
	v := &snapshotView{format: o.format}
	var err error
	switch o.format {
	case "table", "json", "csv":
	default:
		return nil, fmt.Errorf("--format %q: want table, json or csv", o.format)
	}
	if v.metric, err = mesh.ParseMetric(o.metric); err != nil {
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

// atFault names the pairs at or above --fail-on, worst first: "ams→jfk (red)".
func atFault(m *mesh.Matrix, v *snapshotView) []string {
	type fault struct {
		s, d string
		c    mesh.Class
	}
	var fs []fault
	for _, s := range m.Pops {
		for _, d := range m.Pops {
			if c := m.Class(s, d, v.metric, v.stat, v.th[v.metric]); c != mesh.NoData && c.Severity() >= v.failOn.Severity() {
				fs = append(fs, fault{s, d, c})
			}
		}
	}
	slices.SortStableFunc(fs, func(a, b fault) int { return cmp.Compare(b.c.Severity(), a.c.Severity()) })
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = fmt.Sprintf("%s→%s (%s)", f.s, f.d, f.c)
	}
	return out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

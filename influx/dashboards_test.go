package influx

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// dashboardQueries pulls every InfluxQL query (panel targets and template variables) out
// of a Grafana dashboard export.
func dashboardQueries(t *testing.T, file string) []string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, v := range x {
				if s, ok := v.(string); ok && k == "query" && strings.TrimSpace(s) != "" {
					out = append(out, strings.TrimSpace(s))
				}
				walk(v)
			}
		case []any:
			for _, v := range x {
				walk(v)
			}
		}
	}
	walk(doc)
	return out
}

// grafanaVars fills Grafana's variables as Grafana would for "last 1h" and a pair.
func grafanaVars(q, src, dst string) string {
	return strings.NewReplacer(
		"$timeFilter", "time > now() - 1h",
		"$__interval", "1m",
		"$src_pop", src,
		"$dst_pop", dst,
	).Replace(q)
}

var selectStar = regexp.MustCompile(`(?i)^select \* `)

// TestDashboardQueriesOverRecordedData runs every query of the workshop's two dashboards
// over data that only meshtop recorded: each must answer numbers, as Grafana needs them.
func TestDashboardQueriesOverRecordedData(t *testing.T) {
	_, cfg := testDB(t, false)
	rec, err := NewRecorder(RecorderConfig{Config: cfg, PublicIP: "203.0.113.10", MinBackoff: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	for i := range 6 {
		rec.Record(testSweep(now.Add(-time.Duration(6-i)*time.Minute), []string{"ams", "fra", "sin"}, i))
	}
	drain(t, rec)
	if err := rec.Close(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	c, err := newConn(cfg)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("testdata/*.json")
	if len(files) != 2 {
		t.Fatalf("want the two workshop dashboards in testdata, found %v", files)
	}
	total := 0
	for _, file := range files {
		for _, raw := range dashboardQueries(t, file) {
			total++
			q := grafanaVars(raw, "ams", "fra")
			t.Run(filepath.Base(file)+"/"+q, func(t *testing.T) {
				res, err := c.query(ctxT(t), q)
				if err != nil {
					t.Fatal(err)
				}
				series := allSeries(res[0].Series)
				if len(series) == 0 {
					t.Fatal("no series")
				}
				isShow := strings.HasPrefix(strings.ToLower(q), "show ")
				for _, s := range series {
					numbers := 0
					for _, row := range s.rows {
						for col, i := range s.col {
							if col == "time" || i >= len(row) {
								continue
							}
							if isShow {
								if v, ok := row[i].(string); ok && v != "" {
									numbers++
								}
								continue
							}
							if _, ok := row[i].(json.Number); ok {
								numbers++
							}
						}
					}
					if numbers == 0 {
						t.Errorf("series %v answered no numbers (values %v)", s.tags, s.rows)
					}
				}
				if selectStar.MatchString(q) {
					// The detail dashboard's tables show every column: the workshop's
					// fields must be there, numeric where Grafana graphs them.
					want := []string{"avg_rtt_ms", "loss_pct", "jitter_pct", "probe_4_rtt_ms", "failed", "public_ip", "src_slug", "dst"}
					if strings.Contains(q, "from traceroute") {
						want = []string{"as_path", "final_hop_ttl", "final_hop_rtt_ms", "failed", "proto", "dport", "public_ip"}
					}
					for _, col := range want {
						if _, ok := series[0].col[col]; !ok {
							t.Errorf("column %s missing (have %v)", col, series[0].col)
						}
					}
				}
				if strings.Contains(q, "group by dst_pop, src_pop") && len(series) != 6 {
					t.Errorf("mesh panel answered %d pairs, want 6", len(series))
				}
			})
		}
	}
	if total < 15 {
		t.Errorf("found only %d queries in the dashboards", total)
	}
}

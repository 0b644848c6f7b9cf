package probe

import (
	"fmt"
	"strings"
	"testing"
)

func TestParseLabels(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want map[string]string
		err  string
	}{
		{in: nil, want: nil},
		{in: []string{"region=eu"}, want: map[string]string{"region": "eu"}},
		// An environment variable carries several, comma-separated.
		{in: []string{"region=eu, zone=a", "topology.kubernetes.io/zone=b"}, want: map[string]string{"region": "eu", "zone": "a", "topology.kubernetes.io/zone": "b"}},
		{in: []string{"empty="}, want: map[string]string{"empty": ""}},
		{in: []string{"region"}, err: "want KEY=VALUE"},
		{in: []string{"=eu"}, err: "label name"},
		{in: []string{"a=1", "a=2"}, err: "given twice"},
		{in: []string{"k=" + strings.Repeat("v", MaxLabelValue+1)}, err: "longer than"},
	} {
		got, err := ParseLabels(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: err %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%q: %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	many := make([]string, MaxLabels+1)
	for i := range many {
		many[i] = fmt.Sprintf("k%d=v", i)
	}
	if _, err := ParseLabels(many); err == nil {
		t.Errorf("%d labels accepted", len(many))
	}
}

// What an agent says about itself is checked like any answer from outside: a bad
// value is an error naming it, never a PoP.
func TestDecodeDescribe(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		want      Describe
		err       string
	}{
		{"upstream", `{"total_requests":1,"worker_status":[]}`, Describe{}, ""},
		{"meshtop", `{"pop":"fra1","labels":{"region":"eu"}}`, Describe{Pop: "fra1", Labels: map[string]string{"region": "eu"}}, ""},
		{"nulls", `{"pop":null,"labels":null}`, Describe{}, ""},
		{"not an object", `[1,2]`, Describe{}, "not a JSON object"},
		{"pop not a string", `{"pop":7}`, Describe{}, "pop is not a string"},
		{"pop with escape", `{"pop":"fra\u001b[31m"}`, Describe{}, "want 1-63"},
		{"upper pop", `{"pop":"FRA"}`, Describe{}, "lower case"},
		{"labels not an object", `{"labels":["a"]}`, Describe{}, "labels is not an object"},
		{"label not a string", `{"labels":{"a":1}}`, Describe{}, "label a is not a string"},
		{"label control", `{"labels":{"a":"x\u0007"}}`, Describe{}, "control characters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeDescribe([]byte(tc.doc))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("%+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
	var b strings.Builder
	b.WriteString(`{"labels":{`)
	for i := range MaxLabels + 1 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"k%d":"v"`, i)
	}
	b.WriteString(`}}`)
	if _, err := DecodeDescribe([]byte(b.String())); err == nil {
		t.Fatal("too many labels accepted")
	}
}

func FuzzDecodeDescribe(f *testing.F) {
	f.Add([]byte(`{"pop":"fra1","labels":{"region":"eu"}}`))
	f.Add([]byte(`{"total_requests":1}`))
	f.Add([]byte(`{"pop":"","labels":{"":""}}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		d, err := DecodeDescribe(doc)
		if err != nil {
			return
		}
		if d.Pop != "" && CheckPop(d.Pop) != "" {
			t.Fatalf("pop %q passed", d.Pop)
		}
		if len(d.Labels) > MaxLabels {
			t.Fatalf("%d labels passed", len(d.Labels))
		}
		for k, v := range d.Labels {
			if CheckLabel(k, v) != "" {
				t.Fatalf("label %q=%q passed", k, v)
			}
		}
	})
}

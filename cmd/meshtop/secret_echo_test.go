package main

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/meshtop/meshtop/probe/scoutertest"
)

// echoSecret is an agent (or a proxy in front of one) that puts the request's
// Authorization header in its error text, in the forms proxies and frameworks use.
func echoSecret(form string) func(http.ResponseWriter, *http.Request) bool {
	return func(w http.ResponseWriter, r *http.Request) bool {
		auth := r.Header.Get("Authorization")
		switch form {
		case "json":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"bad request with Authorization: ` + auth + ` (b64 ` + base64.StdEncoding.EncodeToString([]byte(auth)) + `)"}`))
		case "html":
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte(`<html><body><h1>502</h1><pre>headers: Authorization=` + auth + `</pre></body></html>`))
		case "message":
			// A 200 whose per-test message quotes the header.
			w.Header().Set("Content-Type", "application/json")
			switch r.Method {
			case http.MethodPost:
				_, _ = w.Write([]byte(`{"receipt":"0123456789abcdef0123456789abcdef"}`))
			case http.MethodGet:
				_, _ = w.Write([]byte(`{"is_running":false,"results":{"ping":[{"id":"x","failed":true,"message":"refused key ` + auth + `","result":{"dst":"198.18.0.1"}}]}}`))
			default:
				_, _ = w.Write([]byte(`{}`))
			}
		}
		return true
	}
}

// TestSecretsNeverShownFromEchoes: issue 23 item 4. An agent or proxy that echoes the
// shared secret puts it nowhere: not in snapshot's table, JSON or CSV, not on
// collect's stderr.
func TestSecretsNeverShownFromEchoes(t *testing.T) {
	const secret = "echo-me-Secret-7731"
	t.Setenv("SCOUTER_SECRET", secret)
	forms := []string{secret, base64.StdEncoding.EncodeToString([]byte(secret))}
	for _, form := range []string{"json", "html", "message"} {
		t.Run(form, func(t *testing.T) {
			inv := writeInventory(t,
				fakeAgent{"ams", scoutertest.Config{Secret: secret, RTT: fixedRTT(20)}},
				fakeAgent{"bad", scoutertest.Config{Secret: secret, Raw: echoSecret(form)}},
			)
			check := func(what, text string) {
				t.Helper()
				for _, f := range forms {
					if strings.Contains(text, f) {
						t.Errorf("%s shows the secret (%q):\n%s", what, f, text)
					}
				}
			}
			for _, format := range []string{"table", "json", "csv"} {
				out, errOut, err := runCLI(t, "snapshot", "--inventory", inv, "--format", format)
				if err != nil {
					t.Fatal(err)
				}
				check("snapshot --format "+format, out+errOut)
				// The table lists agents' errors, not one test's message.
				if (format != "table" || form != "message") && !strings.Contains(out, "[redacted]") {
					t.Errorf("snapshot --format %s: the agent's error should be shown, redacted:\n%s", format, out)
				}
			}
			out, errOut, err := runCLI(t, "collect", "--inventory", inv, "--count", "1")
			if err != nil {
				t.Fatal(err)
			}
			check("collect", out+errOut)
		})
	}
}

// TestInfluxCredentialsNeverShownFromEchoes: an InfluxDB (or a proxy) that echoes the
// credentials it was sent, plain or as the Basic header's base64, shows neither.
func TestInfluxCredentialsNeverShownFromEchoes(t *testing.T) {
	const user, pass = "grafana_ro", "influx-Pass-9921"
	basic := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, _ := r.BasicAuth()
		w.Header().Set("X-Influxdb-Version", "1.6.7")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":"authorization failed for ` + u + `/` + p + ` (` + r.Header.Get("Authorization") + `)"}`))
	}))
	t.Cleanup(srv.Close)
	t.Setenv("INFLUX_USERNAME", user)
	t.Setenv("INFLUX_PASSWORD", pass)
	out, errOut, err := runCLI(t, "snapshot", "--source", "influx", "--influx-url", srv.URL)
	text := out + errOut
	if err != nil {
		text += err.Error()
	}
	if !strings.Contains(text, "authorization failed") || !strings.Contains(text, "[redacted]") {
		t.Errorf("the server's refusal should be shown, redacted: %s", text)
	}
	for _, f := range []string{pass, basic} {
		if strings.Contains(text, f) {
			t.Errorf("shown: %q in %s", f, text)
		}
	}
}

// TestServeRecordingFailureLoggedNoSecrets: issue 23 items 4 and 8. serve logs the
// first failed recording at once (not after 100,000 dropped points), once however
// often it retries; and neither that line, nor the down agent's, nor an SSH viewer's
// screen shows a secret that the agent or InfluxDB echoed.
func TestServeRecordingFailureLoggedNoSecrets(t *testing.T) {
	const user, pass = "meshtop_wo", "record-Pass-5150"
	basic := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
	influxd := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Influxdb-Version", "1.6.7")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":"authorization failed: ` + r.Header.Get("Authorization") + ` ` + pass + `"}`))
	}))
	t.Cleanup(influxd.Close)
	t.Setenv("INFLUX_RECORD_USERNAME", user)
	t.Setenv("INFLUX_RECORD_PASSWORD", pass)
	f := startServeWith(t, []fakeAgent{{"bad", scoutertest.Config{Raw: echoSecret("json")}}}, "--record", influxd.URL)
	f.waitLog("recording to InfluxDB failed", 1)
	f.waitLog(`"event":"agent_down"`, 1)
	start := f.count(`"msg":"sweep done"`)
	f.waitLog(`"msg":"sweep done"`, start+3) // retries meanwhile
	if n := f.count("recording to InfluxDB failed"); n != 1 {
		t.Errorf("the failure was logged %d times in 3 sweeps, want once (then a reminder a minute)", n)
	}
	vw := newTmux(t, 120, 30, "exec "+shellJoin(f.sshCommand(f.operator, "-t")))
	scr := vw.waitFor("src\\dst", "bad")
	for _, s := range []string{testSecret, base64.StdEncoding.EncodeToString([]byte(testSecret)), pass, basic} {
		if strings.Contains(f.log.String(), s) {
			t.Errorf("serve's log shows %q", s)
		}
		if strings.Contains(scr, s) {
			t.Errorf("a viewer's screen shows %q:\n%s", s, scr)
		}
	}
	if !strings.Contains(f.log.String(), "[redacted]") {
		t.Error("the echoed errors should be logged, redacted")
	}
}

package main

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/meshtop/meshtop/settings"
)

// envBindings are the environment variables of flags, keyed by command path and flag,
// first non-empty one wins. It is the one place env names live, so --help, `meshtop
// config example` and the README can list them. The names are the workshop's (SPEC 5)
// and upstream Scouter's (SPEC 4), so an existing .env file keeps working.
//
// Secrets are deliberately absent: SCOUTER_SECRET, SP_API_CLIENT_SECRET, INFLUX_USERNAME
// and INFLUX_PASSWORD are not flags (a flag value shows in `ps`), the code that needs them
// reads them itself (or the file a *-secret-file flag names).
var envBindings = settings.Bindings{
	{Flag: "config", Env: []string{"MESHTOP_CONFIG"}},
	{Flag: "stack-id", Env: []string{"SP_STACK_ID"}},
	{Flag: "workload-id", Env: []string{"SCOUTER_WORKLOAD_ID"}},
	{Flag: "client-id", Env: []string{"SP_API_CLIENT_ID"}},
	{Flag: "influx-url", Env: []string{"INFLUX_URL"}},
	{Flag: "influx-db", Env: []string{"INFLUX_DB"}},
	// Upstream Scouter's variables, for `meshtop agent` only: other commands have a
	// --max-tests of their own that these names must not set.
	{Command: "agent", Flag: "max-tests", Env: []string{"SCOUTER_MAX_TEST_COUNT"}, Value: atLeastOne},
	{Command: "agent", Flag: "max-procs", Env: []string{"SCOUTER_MAX_PROCESS_COUNT"}, Value: atLeastOne},
	{Command: "agent", Flag: "listen", Env: []string{"API_PORT"}, Value: portToListen},
	// What the agent says about itself in /status (the Kubernetes DaemonSet sets
	// MESHTOP_POP from the node name through the downward API).
	{Command: "agent", Flag: "pop", Env: []string{"MESHTOP_POP"}},
	{Command: "agent", Flag: "label", Env: []string{"MESHTOP_LABELS"}},
}

// bindEnv adds environment variables for a flag of every command. A command file that
// wants one more binding calls it from its init(): bindEnv("record-db", "MESHTOP_RECORD_DB").
func bindEnv(flag string, vars ...string) {
	envBindings = append(envBindings, settings.Binding{Flag: flag, Env: vars})
}

func atLeastOne(v string) (string, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 1 {
		return "", fmt.Errorf("want a whole number of at least 1")
	}
	return strconv.Itoa(n), nil
}

// portToListen turns upstream's API_PORT into --listen :PORT.
func portToListen(v string) (string, error) {
	p := strings.TrimSpace(v)
	if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("want a port number 1-65535")
	}
	return net.JoinHostPort("", p), nil
}

// secretEnv lists the secrets meshtop reads from the environment only, by the setting
// name someone might try in the config file, so that the file's "you put a secret here"
// error can point to the right variable.
var secretEnv = map[string]string{
	"scouter-secret":       "SCOUTER_SECRET",
	"scouter-api-secret":   "SCOUTER_API_SECRET",
	"api-secret":           "SCOUTER_API_SECRET",
	"sp-api-client-secret": "SP_API_CLIENT_SECRET",
	"client-secret":        "SP_API_CLIENT_SECRET",
	"influx-username":      "INFLUX_USERNAME",
	"influx-password":      "INFLUX_PASSWORD",
	"record-username":      "INFLUX_RECORD_USERNAME",
	"record-password":      "INFLUX_RECORD_PASSWORD",
}

// secretFileFlags names the flag that reads a secret from a file, where there is one
// (TestSecretAdviceNamesRealFlags checks each exists).
var secretFileFlags = map[string]string{
	"scouter-secret":     "--scouter-secret-file",
	"scouter-api-secret": "--secret-file of `meshtop agent`",
	"api-secret":         "--secret-file of `meshtop agent`",
}

package main

import "slices"

// envBindings maps a flag name to the environment variables that set it, first non-empty
// one wins. It is the one place env names live, so --help, `meshtop config example` and
// the README can list them. The names are the workshop's (SPEC 5) so an existing .env
// file keeps working.
//
// Secrets are deliberately absent: SCOUTER_SECRET, SP_API_CLIENT_SECRET, INFLUX_USERNAME
// and INFLUX_PASSWORD are not flags (a flag value shows in `ps`), the code that needs them
// reads them itself (or the file a *-secret-file flag names).
var envBindings = map[string][]string{
	"config":      {"MESHTOP_CONFIG"},
	"stack-id":    {"SP_STACK_ID"},
	"workload-id": {"SCOUTER_WORKLOAD_ID"},
	"client-id":   {"SP_API_CLIENT_ID"},
	"influx-url":  {"INFLUX_URL"},
	"influx-db":   {"INFLUX_DB"},
}

// bindEnv adds environment variables for a flag. A command file that wants one more
// binding calls it from its init(): bindEnv("record-db", "MESHTOP_RECORD_DB").
func bindEnv(flag string, vars ...string) {
	for _, v := range vars {
		if !slices.Contains(envBindings[flag], v) {
			envBindings[flag] = append(envBindings[flag], v)
		}
	}
}

// secretEnv lists the secrets meshtop reads from the environment only. Kept here so the
// config file's "you put a secret here" error can point to the right variable.
var secretEnv = map[string]string{
	"scouter-secret":       "SCOUTER_SECRET",
	"sp-api-client-secret": "SP_API_CLIENT_SECRET",
	"client-secret":        "SP_API_CLIENT_SECRET",
	"influx-username":      "INFLUX_USERNAME",
	"influx-password":      "INFLUX_PASSWORD",
	"record-username":      "INFLUX_RECORD_USERNAME",
	"record-password":      "INFLUX_RECORD_PASSWORD",
}

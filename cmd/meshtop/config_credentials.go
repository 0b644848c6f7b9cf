package main

// urlCredentialAdvice says, per URL flag, where the credentials that someone wrote into
// the URL go instead (settings refuses a URL with a user or password in the file).
var urlCredentialAdvice = map[string]string{
	"influx-url": "set INFLUX_USERNAME and INFLUX_PASSWORD in the environment",
	"record":     "set INFLUX_RECORD_USERNAME and INFLUX_RECORD_PASSWORD (or INFLUX_USERNAME and INFLUX_PASSWORD) in the environment",
}

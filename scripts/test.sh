#!/usr/bin/env bash
# The whole test suite, set-up included: installs what the tests need (Debian packages
# influxdb, tmux, iproute2, mtr-tiny, openssh-client, prometheus (promtool), podman, runc,
# dnsmasq-base, rpm, systemd, ca-certificates, and the shells the completion tests
# source; Go modules come through the module proxy), then vets and
# tests everything and checks the release build. Run as root for the lab and raw-ICMP
# tests (they skip otherwise, unless CI=true, where they must run).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v influxd >/dev/null || need+=(influxdb)
command -v tmux >/dev/null || need+=(tmux)
command -v ip >/dev/null || need+=(iproute2)
# The hop table is checked against mtr on the same lab path (e2e/mtr_test.go).
command -v mtr >/dev/null || need+=(mtr-tiny)
# Shells for the completion tests.
command -v zsh >/dev/null || need+=(zsh)
command -v fish >/dev/null || need+=(fish)
[ -f /usr/share/bash-completion/bash_completion ] || need+=(bash-completion)
# meshtop serve: the real OpenSSH client, and promtool for /metrics and the alert rules.
command -v ssh >/dev/null || need+=(openssh-client)
command -v promtool >/dev/null || need+=(prometheus)
# Deployment: podman (with runc) runs the container image; dnsmasq is the real DNS
# server of the discovery test; rpm and systemd-analyze check the release's packages
# and units; the image ships the CA bundle of ca-certificates.
command -v podman >/dev/null || need+=(podman)
command -v runc >/dev/null || need+=(runc)
command -v dnsmasq >/dev/null || need+=(dnsmasq-base)
command -v rpm >/dev/null || need+=(rpm)
command -v systemd-analyze >/dev/null || need+=(systemd)
[ -f /etc/ssl/certs/ca-certificates.crt ] || need+=(ca-certificates)
if ((${#need[@]})); then
	if [ "$(id -u)" -ne 0 ]; then
		echo "missing packages: ${need[*]}; install them with: sudo apt-get install ${need[*]}" >&2
		exit 1
	fi
	echo "installing ${need[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

echo "== go vet"
go vet ./...
echo "== go mod tidy"
# go.mod must stay tidy: -diff prints what tidy would change (stdout) and exits non-zero.
# Its stderr is kept apart: on a fresh machine it says "go: downloading …" for the test
# dependencies of dependencies, which is not a diff.
tidy_err=$(mktemp)
if ! tidy=$(go mod tidy -diff 2>"$tidy_err") || [ -n "$tidy" ]; then
	echo "go.mod/go.sum are not tidy; run go mod tidy:" >&2
	echo "$tidy" >&2
	grep -v '^go: downloading ' "$tidy_err" >&2 || true
	rm -f "$tidy_err"
	exit 1
fi
rm -f "$tidy_err"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
	echo "gofmt wants changes in: $unformatted" >&2
	exit 1
fi

echo "== go test"
# Everything but the packet tests first; then the lab and e2e packages one at a time, so
# the Go WAN emulator's timing is not measured against a compile or another package's
# tests on a 2-core machine.
go test -count=1 -timeout 40m $(go list ./... | grep -v -e '/e2e$' -e '/lab$')
echo "== go test (lab, e2e: real packets, one package at a time)"
go test -count=1 -timeout 40m -p 1 ./lab/ ./e2e/

echo "== fuzz (every target, ${FUZZTIME:=5s} each)"
# Every native fuzz target of the repository, found in the test sources, so a target
# added anywhere runs here without editing this script. Their seeds already ran in
# go test above; this explores a little further on every run. A crasher that turns up is
# written to the package's testdata/fuzz/ and becomes a regression seed once committed.
# Go 1.26's fuzz coordinator can report "context deadline exceeded" when -fuzztime ends
# while a starved worker is mid-call (golang/go#75804, fixed in Go 1.27): no input failed
# and none is written. Only that case is run again (twice at most); a failing input, a
# panic or any other error fails at once.
fuzz_one() {
	local out tries=0
	while :; do
		if out=$(go test -run '^$' -fuzz "^$2\$" -fuzztime "$FUZZTIME" "$1" 2>&1); then
			printf '%s\n' "$out" | tail -n 1
			return 0
		fi
		tries=$((tries + 1))
		if [ "$tries" -le 2 ] && grep -q 'context deadline exceeded' <<<"$out" &&
			! grep -qE 'Failing input written|panic:|_test\.go:[0-9]+:' <<<"$out"; then
			echo "   (the fuzz coordinator's deadline race, golang/go#75804: no failing input; again)"
			continue
		fi
		printf '%s\n' "$out"
		return 1
	done
}
grep -rlE --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*\(f \*testing\.F\)' . | sort |
	while read -r file; do
		dir=$(dirname "$file")
		for target in $(sed -nE 's/^func (Fuzz[A-Za-z0-9_]*)\(f \*testing\.F\).*/\1/p' "$file"); do
			echo "-- $dir $target"
			fuzz_one "$dir" "$target"
		done
	done

if [ -x scripts/release-check.sh ]; then
	echo "== release check"
	scripts/release-check.sh
fi

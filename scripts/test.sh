#!/usr/bin/env bash
# The whole test suite, set-up included: installs what the tests need (Debian packages
# influxdb, tmux, iproute2, and the shells the completion tests source; Go modules come through the module proxy), then vets and
# tests everything and checks the release build. Run as root for the lab and raw-ICMP
# tests (they skip otherwise, unless CI=true, where they must run).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v influxd >/dev/null || need+=(influxdb)
command -v tmux >/dev/null || need+=(tmux)
command -v ip >/dev/null || need+=(iproute2)
# Shells for the completion tests.
command -v zsh >/dev/null || need+=(zsh)
command -v fish >/dev/null || need+=(fish)
[ -f /usr/share/bash-completion/bash_completion ] || need+=(bash-completion)
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
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
	echo "gofmt wants changes in: $unformatted" >&2
	exit 1
fi

echo "== go test"
go test -count=1 -timeout 40m ./...

echo "== fuzz: influx (query answers, line protocol)"
for target in FuzzQueryAnswer FuzzLineProtocol; do
	go test -run '^$' -fuzz "^${target}\$" -fuzztime 10s ./influx
done

if [ -x scripts/release-check.sh ]; then
	echo "== release check"
	scripts/release-check.sh
fi

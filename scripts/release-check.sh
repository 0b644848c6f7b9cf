#!/usr/bin/env bash
# Release check: validates .goreleaser.yaml and runs a snapshot release (every target
# built, archived and checksummed, nothing published), then checks the result: the four
# archives hold meshtop, README.md and LICENSE, the checksums match, the binaries are
# static, and the binary for this machine runs `meshtop version` with the stamps.
#
# goreleaser is installed on first use from the Go module proxy, pinned, into a cache
# dir (nothing else is downloaded; no network needed once it is there):
#   GORELEASER      use this goreleaser binary instead
#   MESHTOP_TOOLS   tool cache (default ${XDG_CACHE_HOME:-~/.cache}/meshtop/tools)
# Output goes to ./dist (git-ignored), replaced on every run.
set -euo pipefail
cd "$(dirname "$0")/.."

GORELEASER_VERSION=v2.15.1
tools=${MESHTOP_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/meshtop/tools}
gr=${GORELEASER:-$tools/goreleaser-$GORELEASER_VERSION/goreleaser}

if [ ! -x "$gr" ]; then
	echo "== installing goreleaser $GORELEASER_VERSION into $(dirname "$gr") (a few minutes, once)"
	mkdir -p "$(dirname "$gr")"
	# From a scratch dir so the install cannot touch this module's go.mod/go.sum.
	scratch=$(mktemp -d)
	trap 'rm -rf "$scratch"' EXIT
	(cd "$scratch" && GOBIN="$(dirname "$gr")" GOFLAGS=-mod=mod \
		go install "github.com/goreleaser/goreleaser/v2@$GORELEASER_VERSION")
fi
if [ -z "${GORELEASER:-}" ] && ! "$gr" --version 2>/dev/null | grep -Eq "GitVersion:[[:space:]]+$GORELEASER_VERSION\$"; then
	echo "release-check: $gr is not goreleaser $GORELEASER_VERSION; delete it and rerun" >&2
	exit 1
fi

for f in README.md LICENSE; do
	if [ ! -f "$f" ]; then
		echo "release-check: $f is missing; the release archives ship it" >&2
		exit 1
	fi
done

# goreleaser reads the commit only if the repository has a remote (it wants the URL for
# the release notes). A CI checkout may have none: lend it one through git's environment
# config, for goreleaser's git calls only. Nothing is fetched: snapshot mode stays local.
if git rev-parse --git-dir >/dev/null 2>&1 && ! git ls-remote --get-url >/dev/null 2>&1; then
	n=${GIT_CONFIG_COUNT:-0}
	export "GIT_CONFIG_KEY_$n=remote.origin.url" "GIT_CONFIG_VALUE_$n=https://github.com/meshtop/meshtop.git"
	export GIT_CONFIG_COUNT=$((n + 1))
fi

echo "== goreleaser check"
"$gr" check

echo "== goreleaser release --snapshot (linux, darwin x amd64, arm64)"
log=$(mktemp)
"$gr" release --snapshot --clean --skip=publish --parallelism 2 >"$log" 2>&1 || {
	cat "$log" >&2
	rm -f "$log"
	echo "release-check: snapshot release failed (log above)" >&2
	exit 1
}
rm -f "$log"

fail() {
	echo "release-check: $*" >&2
	exit 1
}

echo "== checking dist/"
(cd dist && sha256sum --quiet -c checksums.txt) || fail "dist/checksums.txt does not match the archives"
for target in linux_amd64 linux_arm64 darwin_amd64 darwin_arm64; do
	archive=$(ls dist/meshtop_*_"$target".tar.gz 2>/dev/null | head -n1)
	[ -n "$archive" ] || fail "no archive for $target in dist/"
	grep -q " $(basename "$archive")\$" dist/checksums.txt || fail "$archive is not in checksums.txt"
	contents=$(tar -tzf "$archive" | sort | tr '\n' ' ')
	[ "$contents" = "LICENSE README.md meshtop " ] || fail "$archive holds [$contents], want LICENSE README.md meshtop"
	bin=$(ls -d dist/meshtop_"$target"*/meshtop | head -n1)
	go version -m "$bin" | grep -Eq '^[[:space:]]+build[[:space:]]+CGO_ENABLED=0$' ||
		fail "$bin was built with cgo (not static)"
	echo "   $archive ok"
done

host="$(go env GOOS)_$(go env GOARCH)"
bin=$(ls -d dist/meshtop_"$host"*/meshtop 2>/dev/null | head -n1)
if [ -z "$bin" ]; then
	echo "   (no release target for this machine, $host: not running the binary)"
	exit 0
fi
out=$("$bin" version) || fail "$bin version failed"
echo "$out" | sed 's/^/   /'
version=$(jq -r .version dist/metadata.json 2>/dev/null || sed -n 's/.*"version":"\([^"]*\)".*/\1/p' dist/metadata.json)
commit=$(git rev-parse HEAD 2>/dev/null || true)
grep -qx "meshtop $version" <<<"$(head -n1 <<<"$out")" || fail "version line is not 'meshtop $version'"
[ -z "$commit" ] || grep -qx "commit: *$commit" <<<"$out" || fail "commit line does not name $commit"
grep -Eq '^date: +[0-9]{4}-[0-9]{2}-[0-9]{2}T' <<<"$out" || fail "date line is not a timestamp"
grep -Eq '^go: +go1\.' <<<"$out" || fail "go line is missing"
[ "$("$bin" --version)" = "meshtop $version" ] || fail "--version does not print 'meshtop $version'"
echo "== release check ok"

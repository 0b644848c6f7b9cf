#!/usr/bin/env bash
# Release check: validates .goreleaser.yaml and runs a snapshot release (every target
# built, archived and checksummed, nothing published), then checks the result: the four
# archives hold meshtop, README.md and LICENSE, the checksums match, the binaries are
# static, and the binary for this machine runs `meshtop version` with the stamps; the
# container image of each linux arch is what deploy/image says (user, entry point, the
# binary with cap_net_raw+p) and, as root with podman, loads and runs; the deb and rpm
# hold the binary, both units and /etc/meshtop (0640 root:meshtop, config files), make
# the user on install, and the units pass `systemd-analyze verify`.
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

version=$(jq -r .version dist/metadata.json 2>/dev/null || sed -n 's/.*"version":"\([^"]*\)".*/\1/p' dist/metadata.json)

echo "== checking the container images"
for arch in amd64 arm64; do
	img=$(ls dist/meshtop_*_linux_"$arch".image.tar 2>/dev/null | head -n1)
	[ -n "$img" ] || fail "no container image for linux/$arch in dist/ (the build hook runs deploy/image)"
	grep -q " $(basename "$img")\$" dist/checksums.txt || fail "$img is not in checksums.txt"
	out=$(go run ./deploy/image --verify "$img" --arch "$arch" --version "$version" 2>&1) ||
		fail "$img is not the image deploy/image describes: $out"
	echo "   $out"
done
host_img=$(ls dist/meshtop_*_"$(go env GOOS)"_"$(go env GOARCH)".image.tar 2>/dev/null | head -n1)
if [ -n "$host_img" ] && [ "$(id -u)" -eq 0 ] && command -v podman >/dev/null; then
	# A store of its own: nothing left in the machine's images.
	store=$(mktemp -d /tmp/mt-release-podman.XXXXXX)
	pm() { podman --root "$store/root" --runroot "$store/run" --tmpdir "$store/tmp" --storage-driver vfs \
		--cgroup-manager cgroupfs --events-backend file "$@"; }
	pm load --input "$host_img" >/dev/null 2>&1 || fail "podman load $host_img failed"
	out=$(pm run --rm --runtime runc --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --network none \
		"localhost/meshtop:$version" version) || fail "podman run meshtop:$version version failed"
	pm rmi --all --force >/dev/null 2>&1 || true
	rm -rf "$store"
	[ "$(head -n1 <<<"$out")" = "meshtop $version" ] || fail "the image says '$(head -n1 <<<"$out")', want 'meshtop $version'"
	echo "   podman load + run: $(head -n1 <<<"$out") (no NET_RAW given: the file capability is permitted-only)"
else
	echo "   (not root or no podman: the image was not loaded; deploy/image's podman test runs it)"
fi

echo "== checking the deb and rpm packages"
want_files="drwxr-x--- root/meshtop ./etc/meshtop/
-rw-r----- root/meshtop ./etc/meshtop/agent.env
-rw-r----- root/meshtop ./etc/meshtop/meshtop.yaml
-rw-r----- root/meshtop ./etc/meshtop/serve.env
-rwxr-xr-x root/root ./usr/bin/meshtop
-rw-r--r-- root/root ./usr/lib/systemd/system/meshtop-agent.service
-rw-r--r-- root/root ./usr/lib/systemd/system/meshtop-serve.service"
want_conf="/etc/meshtop/agent.env
/etc/meshtop/meshtop.yaml
/etc/meshtop/serve.env"
for arch in amd64:x86_64 arm64:aarch64; do
	deb_arch=${arch%%:*} rpm_arch=${arch##*:}
	deb=$(ls dist/meshtop_*_"$deb_arch".deb 2>/dev/null | head -n1)
	rpm=$(ls dist/meshtop-*."$rpm_arch".rpm 2>/dev/null | head -n1)
	[ -n "$deb" ] && [ -n "$rpm" ] || fail "no deb or rpm for $deb_arch in dist/"
	got=$(dpkg-deb -c "$deb" | awk '{print $1, $2, $6}' | grep -E ' \./(etc/meshtop/.*|usr/bin/meshtop|usr/lib/systemd/system/meshtop.*)$' | LC_ALL=C sort -k3)
	[ "$got" = "$want_files" ] || fail "$deb holds
$got
want
$want_files"
	[ "$(dpkg-deb -f "$deb" Architecture)" = "$deb_arch" ] || fail "$deb is not for $deb_arch"
	[ "$(dpkg-deb -I "$deb" conffiles | sort)" = "$want_conf" ] || fail "$deb: conffiles are not $want_conf"
	dpkg-deb -I "$deb" preinst | grep -q 'useradd --system' || fail "$deb: preinst does not make the user meshtop"
	got=$(rpm -qp --qf '[%{FILEMODES:perms} %{FILEUSERNAME}/%{FILEGROUPNAME} .%{FILENAMES}\n]' "$rpm" 2>/dev/null |
		sed 's|^\(d[^ ]*\) \([^ ]*\) \(.*\)$|\1 \2 \3/|' | grep -E ' \./(etc/meshtop/.*|usr/bin/meshtop|usr/lib/systemd/system/meshtop.*)$' | LC_ALL=C sort -k3)
	[ "$got" = "$want_files" ] || fail "$rpm holds
$got
want
$want_files"
	[ "$(rpm -qp --qf '%{ARCH}' "$rpm" 2>/dev/null)" = "$rpm_arch" ] || fail "$rpm is not for $rpm_arch"
	[ "$(rpm -qcp "$rpm" 2>/dev/null | sort)" = "$want_conf" ] || fail "$rpm: config files are not $want_conf"
	rpm -qp --scripts "$rpm" 2>/dev/null | grep -q 'useradd --system' || fail "$rpm: %pre does not make the user meshtop"
	echo "   $deb, $rpm ok"
done

deb=$(ls dist/meshtop_*_"$(go env GOARCH)".deb 2>/dev/null | head -n1)
if [ -n "$deb" ]; then
	root=$(mktemp -d)
	dpkg-deb -x "$deb" "$root"
	units="$root/usr/lib/systemd/system/meshtop-agent.service $root/usr/lib/systemd/system/meshtop-serve.service"
	if [ "$(id -u)" -eq 0 ] && command -v systemd-analyze >/dev/null; then
		# The units name /usr/bin/meshtop, which verify wants to exist: the package's
		# binary is laid over /usr/bin in a mount namespace of this check alone.
		out=$(unshare --mount sh -c "mount -t overlay overlay -o lowerdir=$root/usr/bin:/usr/bin /usr/bin && systemd-analyze verify $units" 2>&1) ||
			fail "systemd-analyze verify: $out"
		[ -z "$out" ] || fail "systemd-analyze verify warns: $out"
		echo "   systemd-analyze verify: meshtop-agent.service, meshtop-serve.service ok"
	else
		echo "   (not root or no systemd-analyze: units not verified)"
	fi
	out=$("$root/usr/bin/meshtop" config check --config "$root/etc/meshtop/meshtop.yaml") ||
		fail "the packaged /etc/meshtop/meshtop.yaml does not check: $out"
	echo "   /etc/meshtop/meshtop.yaml: $out"
	rm -rf "$root"
fi

host="$(go env GOOS)_$(go env GOARCH)"
bin=$(ls -d dist/meshtop_"$host"*/meshtop 2>/dev/null | head -n1)
if [ -z "$bin" ]; then
	echo "   (no release target for this machine, $host: not running the binary)"
	exit 0
fi
out=$("$bin" version) || fail "$bin version failed"
echo "$out" | sed 's/^/   /'
commit=$(git rev-parse HEAD 2>/dev/null || true)
grep -qx "meshtop $version" <<<"$(head -n1 <<<"$out")" || fail "version line is not 'meshtop $version'"
[ -z "$commit" ] || grep -qx "commit: *$commit" <<<"$out" || fail "commit line does not name $commit"
grep -Eq '^date: +[0-9]{4}-[0-9]{2}-[0-9]{2}T' <<<"$out" || fail "date line is not a timestamp"
grep -Eq '^go: +go1\.' <<<"$out" || fail "go line is missing"
[ "$("$bin" --version)" = "meshtop $version" ] || fail "--version does not print 'meshtop $version'"
echo "== release check ok"

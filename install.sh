#!/bin/sh
# tally installer: picks the binary for this machine, refuses it unless its SHA-256 matches SHA256SUMS,
# and installs it. Run as root it also sets tally up as a service: a `tally` system user,
# /etc/tally/tally.toml (written once, never overwritten), /var/lib/tally and a hardened systemd unit
# (or an OpenRC script). Re-running it upgrades in place; `--uninstall` takes it away again.
#
#   curl -fsSL https://github.com/tally-metrics/tally/releases/download/v0.1.0/install.sh | sh
#   sh install.sh --file ./tally-linux-x64              (offline: checked against SHA256SUMS beside it)
#
# POSIX sh; checked with shellcheck. Run `sh install.sh --help` for the options.
#
# The environment may set:
#   TALLY_BASE_URL   where releases live; files of version X are read from $TALLY_BASE_URL/vX/
#                    (default https://github.com/tally-metrics/tally/releases/download)
# and, for image builds and tests (never needed on a live system):
#   TALLY_ROOT       install into this directory as if it were / (system paths, useradd --prefix,
#                    `systemctl --root` to enable; nothing is started)
#   TALLY_INIT       systemd, openrc or none: the service manager, instead of detecting it
#   TALLY_SYSTEMCTL, TALLY_RC_SERVICE, TALLY_RC_UPDATE
#                    the service manager's commands, instead of systemctl, rc-service and rc-update
set -eu

# The release this script belongs to: what it installs without --version. A test keeps it equal to
# package.json's version.
INSTALLER_VERSION="0.1.0"
DEFAULT_BASE_URL="https://github.com/tally-metrics/tally/releases/download"

SERVICE_USER="tally"
CONFIG_DIR="/etc/tally"
CONFIG_FILE="/etc/tally/tally.toml"
DATA_DIR="/var/lib/tally"
LOG_DIR="/var/log/tally"
UNIT_FILE="/etc/systemd/system/tally.service"
OPENRC_FILE="/etc/init.d/tally"

usage() {
	cat <<EOF
Usage: install.sh [options]

Installs tally ${INSTALLER_VERSION} (or --version X) for this machine's OS, CPU and C library, after
checking its SHA-256 against the release's SHA256SUMS. Run as root it also creates the tally system
user, ${CONFIG_FILE} (never overwritten), ${DATA_DIR} and a hardened systemd unit (or an OpenRC
script), then starts the service. Re-running it upgrades in place and restarts a running service.

Options:
  --version X        install version X (default ${INSTALLER_VERSION})
  --prefix DIR       install the binary as DIR/bin/tally (default: /usr/local as root, ~/.local otherwise)
  --file PATH        install this already-downloaded binary (air-gapped), checked against the
                     SHA256SUMS beside it or against --sha256; a folder (an unpacked release)
                     gives this machine's binary in it
  --sha256 HEX       the SHA-256 the binary must have (instead of SHA256SUMS)
  --target NAME      the binary to fetch, e.g. linux-x64-musl (default: detected)
  --no-service       install the binary only: no user, config, data directory or service
  --uninstall        stop and remove the service and the binary; keeps ${CONFIG_DIR} and ${DATA_DIR}
  --purge            with --uninstall: also remove ${CONFIG_DIR}, ${DATA_DIR} and the tally user
  --dry-run          print each step without changing anything
  -h, --help         show this help

Environment: TALLY_BASE_URL (default ${DEFAULT_BASE_URL}); files of version X
are fetched from \$TALLY_BASE_URL/vX/. Needs curl or wget, and sha256sum, shasum or openssl.
EOF
}

say() {
	printf '%s\n' "$*"
}

step() {
	printf '==> %s\n' "$*"
}

die() {
	printf 'install.sh: error: %s\n' "$*" >&2
	exit 1
}

usage_error() {
	printf 'install.sh: %s\n\n' "$*" >&2
	usage >&2
	exit 2
}

# Runs a command that changes the system, or shows it under --dry-run.
act() {
	if [ "$dry_run" = 1 ]; then
		say "    (dry run) would run: $*"
		return 0
	fi
	"$@"
}

# Writes stdin to a file atomically (a temporary file beside it, then a rename), or shows it under
# --dry-run.
write_file() {
	_path=$1
	_mode=$2
	if [ "$dry_run" = 1 ]; then
		cat >/dev/null
		say "    (dry run) would write ${_path} (mode ${_mode})"
		return 0
	fi
	cat >"${_path}.tally-new.$$"
	chmod "$_mode" "${_path}.tally-new.$$"
	mv -f "${_path}.tally-new.$$" "$_path"
}

# ---------------------------------------------------------------------------------------------------
# Options

version=""
prefix=""
file=""
sha256=""
target=""
service=1
uninstall=0
purge=0
dry_run=0

need_value() {
	[ "$2" -ge 2 ] || usage_error "$1 needs a value"
}

while [ $# -gt 0 ]; do
	case $1 in
	--version) need_value "$1" $#; version=$2; shift 2 ;;
	--version=*) version=${1#*=}; shift ;;
	--prefix) need_value "$1" $#; prefix=$2; shift 2 ;;
	--prefix=*) prefix=${1#*=}; shift ;;
	--file) need_value "$1" $#; file=$2; shift 2 ;;
	--file=*) file=${1#*=}; shift ;;
	--sha256) need_value "$1" $#; sha256=$2; shift 2 ;;
	--sha256=*) sha256=${1#*=}; shift ;;
	--target) need_value "$1" $#; target=$2; shift 2 ;;
	--target=*) target=${1#*=}; shift ;;
	--no-service) service=0; shift ;;
	--uninstall) uninstall=1; shift ;;
	--purge) purge=1; shift ;;
	--dry-run) dry_run=1; shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage_error "unknown option \"$1\"" ;;
	esac
done

explicit_version=$version
version=${version#v}
[ -n "$version" ] || version=$INSTALLER_VERSION
case $version in
*[!0-9A-Za-z.+-]*) usage_error "--version \"$explicit_version\" is not a version like 0.1.0" ;;
esac
case $target in
*[!0-9a-z-]*) usage_error "--target \"$target\" is not a target like linux-x64-musl" ;;
esac
target=${target#tally-}
if [ -n "$sha256" ]; then
	sha256=$(printf '%s' "$sha256" | tr 'A-F' 'a-f')
	case $sha256 in
	*[!0-9a-f]*) usage_error "--sha256 needs 64 hex digits, got \"$sha256\"" ;;
	esac
	[ ${#sha256} -eq 64 ] || usage_error "--sha256 needs 64 hex digits, got ${#sha256}"
fi
[ "$purge" = 0 ] || [ "$uninstall" = 1 ] || usage_error "--purge goes with --uninstall"
if [ "$uninstall" = 1 ] && [ -n "$file$sha256$target" ]; then
	usage_error "--uninstall takes only --prefix, --purge and --dry-run (and ignores --version)"
fi

ROOT=${TALLY_ROOT:-}
ROOT=${ROOT%/}
base_url=${TALLY_BASE_URL:-$DEFAULT_BASE_URL}
base_url=${base_url%/}

# ---------------------------------------------------------------------------------------------------
# What this machine is

os_name=$(uname -s)
case $os_name in
Linux) os=linux ;;
Darwin) os=darwin ;;
*) die "tally has no build for ${os_name}: only Linux and macOS" ;;
esac

# System mode (root, or an image build into TALLY_ROOT) installs the service; user mode the binary.
if [ "$(id -u)" = 0 ] || [ -n "$ROOT" ]; then system=1; else system=0; fi
if [ "$system" = 1 ] && [ "$os" = darwin ] && [ "$service" = 1 ]; then
	say "macOS: installing the binary only (no launchd service is set up)"
	service=0
fi
with_service=0
if [ "$system" = 1 ] && [ "$service" = 1 ]; then with_service=1; fi

if [ -z "$prefix" ]; then
	if [ "$system" = 1 ]; then
		prefix=/usr/local
	else
		[ -n "${HOME:-}" ] || die "HOME is not set: pass --prefix DIR"
		prefix=$HOME/.local
	fi
fi
case $prefix in
/*) ;;
*) prefix=$(pwd)/$prefix ;;
esac
prefix=${prefix%/}
# In system mode paths are written as the running system sees them, and live under TALLY_ROOT.
if [ "$system" = 1 ]; then fs_root=$ROOT; else fs_root=""; fi
bin_path="$prefix/bin/tally"
manifest="$prefix/lib/tally/manifest"

is_musl() {
	# glibc's getconf knows GNU_LIBC_VERSION and musl's does not; Alpine's ldd says "musl".
	if command -v getconf >/dev/null 2>&1 && getconf GNU_LIBC_VERSION >/dev/null 2>&1; then return 1; fi
	if command -v ldd >/dev/null 2>&1; then
		_ldd=$(ldd --version 2>&1 || true)
		case $_ldd in
		*musl*) return 0 ;;
		*GNU* | *GLIBC* | *glibc*) return 1 ;;
		esac
	fi
	# No getconf or ldd: a musl loader and no glibc one.
	[ ! -e /lib64/ld-linux-x86-64.so.2 ] && [ ! -e /lib/ld-linux-aarch64.so.1 ] || return 1
	for _loader in /lib/ld-musl-*.so.1; do
		[ -e "$_loader" ] && return 0
	done
	return 1
}

detect_target() {
	machine=$(uname -m)
	case $machine in
	x86_64 | amd64) arch=x64 ;;
	aarch64 | arm64) arch=arm64 ;;
	*) die "tally has no build for ${machine} CPUs: only x86-64 and arm64 (64-bit ARM)" ;;
	esac
	# An x64 shell under Rosetta on Apple silicon: the arm64 build runs natively.
	if [ "$os" = darwin ] && [ "$arch" = x64 ] && [ "$(sysctl -n sysctl.proc_translated 2>/dev/null)" = 1 ]; then
		arch=arm64
	fi
	target="$os-$arch"
	detected="$os_name $machine"
	if [ "$os" = linux ]; then
		if is_musl; then
			target="$target-musl"
			detected="$detected, musl"
		else
			detected="$detected, glibc"
		fi
		# Without AVX2 (older Atom, Celeron and Pentium CPUs) the default x64 build stops at its first
		# AVX2 instruction; the baseline build does not use it.
		if [ "$arch" = x64 ] && [ -r /proc/cpuinfo ] && ! grep -q avx2 /proc/cpuinfo; then
			target="$target-baseline"
			detected="$detected, no AVX2"
		fi
	fi
}

# ---------------------------------------------------------------------------------------------------
# Fetching and checking

tmp=""
cleanup() {
	if [ -n "$tmp" ]; then rm -rf "$tmp"; fi
}
# A signal ends the script through exit, so that the EXIT trap removes the temporary folder (`| head`
# closing the pipe is a SIGPIPE).
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 141' PIPE
trap 'exit 143' TERM

fetch() {
	if command -v curl >/dev/null 2>&1; then
		curl -fsSL --retry 2 -o "$2" "$1" || die "cannot download $1 (curl failed; is the version right?)"
	elif command -v wget >/dev/null 2>&1; then
		wget -q -O "$2" "$1" || die "cannot download $1 (wget failed; is the version right?)"
	else
		die "cannot download $1: neither curl nor wget is installed (or install offline with --file)"
	fi
}

# Picks the SHA-256 tool before anything is downloaded; without one nothing is installed.
pick_hash_tool() {
	if command -v sha256sum >/dev/null 2>&1; then
		hash_tool=sha256sum
	elif command -v shasum >/dev/null 2>&1; then
		hash_tool=shasum
	elif command -v openssl >/dev/null 2>&1; then
		hash_tool=openssl
	else
		die "refusing to install: no sha256sum, shasum or openssl to check the SHA-256 with (install coreutils, perl or openssl); the check is never skipped"
	fi
}

sha256_of() {
	case $hash_tool in
	sha256sum) _sum=$(sha256sum "$1") ;;
	shasum) _sum=$(shasum -a 256 "$1") ;;
	openssl) _sum=$(openssl dgst -sha256 "$1" | sed 's/^.*= *//') ;;
	esac
	printf '%s\n' "${_sum%% *}" | tr 'A-F' 'a-f'
}

# Prints the SHA-256 SHA256SUMS ($1) lists for file name $2, or nothing.
listed_sha256() {
	awk -v name="$2" '$2 == name || $2 == "*" name { print tolower($1); exit }' "$1"
}

# Checks file $1 against $expected, and refuses to go on when it differs.
verify() {
	_actual=$(sha256_of "$1")
	case $expected in
	*[!0-9a-f]* | "") die "refusing to install: ${expected_from} gives \"${expected}\" for ${asset}, which is no SHA-256" ;;
	esac
	[ ${#expected} -eq 64 ] || die "refusing to install: ${expected_from} gives \"${expected}\" for ${asset}, which is no SHA-256"
	if [ "$_actual" != "$expected" ]; then
		die "refusing to install: the SHA-256 of ${asset} is ${_actual}, but ${expected_from} says ${expected}. The file is corrupt or was tampered with; nothing was installed"
	fi
	say "    SHA-256 ${_actual} matches ${expected_from} (${hash_tool})"
}

obtain_binary() {
	pick_hash_tool
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/tally-install.XXXXXX")
	new_binary="$tmp/tally"
	if [ -n "$file" ]; then
		[ -f "$file" ] || die "cannot install \"$file\": no such file"
		asset=$(basename "$file")
		step "Checking ${file}"
		if [ -n "$sha256" ]; then
			expected=$sha256
			expected_from="--sha256"
		else
			sums="$(dirname "$file")/SHA256SUMS"
			[ -f "$sums" ] || die "refusing to install: no SHA256SUMS beside ${file} and no --sha256 given, so it cannot be checked"
			expected=$(listed_sha256 "$sums" "$asset")
			expected_from=$sums
			if [ -z "$expected" ]; then
				# A binary renamed on the way (tally-linux-arm64 copied as tally) is still a release file
				# when SHA256SUMS lists its hash.
				_actual=$(sha256_of "$file")
				_listed=$(awk -v h="$_actual" 'tolower($1) == h { sub(/^\*/, "", $2); print $2; exit }' "$sums")
				[ -n "$_listed" ] || die "refusing to install: ${sums} has no line for ${asset}, and no line with its SHA-256 ${_actual}"
				say "    ${asset} is ${_listed} of ${sums}"
				asset=$_listed
				expected=$_actual
			fi
		fi
		cp "$file" "$new_binary"
		verify "$new_binary"
	else
		release_url="$base_url/v$version"
		step "Downloading tally ${version} (${asset}) from ${release_url}"
		fetch "$release_url/SHA256SUMS" "$tmp/SHA256SUMS"
		if [ -n "$sha256" ]; then
			expected=$sha256
			expected_from="--sha256"
		else
			expected=$(listed_sha256 "$tmp/SHA256SUMS" "$asset")
			expected_from="$release_url/SHA256SUMS"
			[ -n "$expected" ] || die "release ${version} has no ${asset} (its SHA256SUMS does not list it): pick one with --target, or check --version"
		fi
		fetch "$release_url/$asset" "$new_binary"
		verify "$new_binary"
	fi
	chmod 0755 "$new_binary"
	if ! new_version_line=$("$new_binary" version 2>"$tmp/version.err"); then
		hint=""
		case $asset in
		*-musl*) hint=" (Alpine: apk add libstdc++ libgcc)" ;;
		esac
		die "${asset} does not run on this machine${hint}: $(head -n 3 "$tmp/version.err")"
	fi
	new_version=$(printf '%s\n' "$new_version_line" | awk 'NR == 1 { print $2 }')
	say "    runs: ${new_version_line}"
	if [ -z "$file" ] || [ -n "$explicit_version" ]; then
		[ "$new_version" = "$version" ] || die "refusing to install: asked for tally ${version}, but ${asset} is tally ${new_version}"
	fi
}

# ---------------------------------------------------------------------------------------------------
# The install manifest: what this installer created, so --uninstall removes exactly that. One line each,
# "KIND PATH": file and dir go with --uninstall, keep (config, data) and user only with --purge.

record() {
	[ "$dry_run" = 0 ] || return 0
	grep -qxF "$1 $2" "$fs_root$manifest" 2>/dev/null || printf '%s %s\n' "$1" "$2" >>"$fs_root$manifest"
}

# Creates directory $1 (as the system sees it) and any missing parents, recording each one created as
# "dir", or $1 itself as $2 when given.
make_dir() {
	[ -d "$fs_root$1" ] && return 0
	make_dir "$(dirname "$1")"
	act mkdir "$fs_root$1"
	record "${2:-dir}" "$1"
}

# Starts the manifest (its folder first, so that it is removed last), unless it exists.
ensure_manifest() {
	[ "$dry_run" = 0 ] || return 0
	[ ! -f "$fs_root$manifest" ] || return 0
	_created=""
	_dir=$(dirname "$manifest")
	while [ ! -d "$fs_root$_dir" ]; do
		_created="$_dir $_created"
		_dir=$(dirname "$_dir")
	done
	for _dir in $_created; do mkdir "$fs_root$_dir"; done
	: >"$fs_root$manifest"
	for _dir in $_created; do record dir "$_dir"; done
	record file "$manifest"
}

# ---------------------------------------------------------------------------------------------------
# Installing

install_binary() {
	ensure_manifest
	make_dir "$prefix/bin"
	if [ -f "$fs_root$bin_path" ] && [ "$(sha256_of "$fs_root$bin_path")" = "$expected" ]; then
		step "${bin_path} is already this binary: unchanged"
		binary_changed=0
		return 0
	fi
	old_line=""
	if [ -x "$fs_root$bin_path" ]; then old_line=$("$fs_root$bin_path" version 2>/dev/null || true); fi
	if [ -n "$old_line" ]; then
		step "Upgrading ${bin_path}: ${old_line} -> ${new_version_line}"
	else
		step "Installing ${bin_path}"
	fi
	# A copy beside the target, then a rename: a running tally keeps its old file, a new start sees the
	# whole new one, never a half-written binary.
	act cp "$new_binary" "$fs_root$bin_path.tally-new.$$"
	act chmod 0755 "$fs_root$bin_path.tally-new.$$"
	act mv -f "$fs_root$bin_path.tally-new.$$" "$fs_root$bin_path"
	record file "$bin_path"
	binary_changed=1
}

user_ids() {
	if [ -n "$ROOT" ]; then
		awk -F: -v u="$SERVICE_USER" '$1 == u { print $3 ":" $4; exit }' "$ROOT/etc/passwd" 2>/dev/null
	elif id "$SERVICE_USER" >/dev/null 2>&1; then
		printf '%s:%s\n' "$(id -u "$SERVICE_USER")" "$(id -g "$SERVICE_USER")"
	fi
}

nologin_shell() {
	for _shell in /usr/sbin/nologin /sbin/nologin; do
		if [ -x "$fs_root$_shell" ]; then
			echo "$_shell"
			return 0
		fi
	done
	echo /bin/false
}

ensure_user() {
	if [ -n "$(user_ids)" ]; then
		say "    user ${SERVICE_USER} exists"
		return 0
	fi
	step "Creating system user ${SERVICE_USER}"
	_shell=$(nologin_shell)
	if command -v useradd >/dev/null 2>&1; then
		if [ -n "$ROOT" ]; then set -- --prefix "$ROOT"; else set --; fi
		act useradd "$@" --system --user-group --no-create-home --home-dir "$DATA_DIR" \
			--shell "$_shell" --comment "tally metrics collector" "$SERVICE_USER"
	elif command -v adduser >/dev/null 2>&1 && [ -z "$ROOT" ]; then
		# BusyBox (Alpine)
		act addgroup -S "$SERVICE_USER"
		act adduser -S -D -H -h "$DATA_DIR" -s "$_shell" -G "$SERVICE_USER" -g "tally metrics collector" "$SERVICE_USER"
	else
		die "cannot create the ${SERVICE_USER} user: no useradd (or BusyBox adduser) found"
	fi
	record user "$SERVICE_USER"
}

# The service's config: `tally config example` with the data directory set and the example inputs
# commented out, so that the defaults (StatsD on udp:127.0.0.1:8125) run until the user enables some.
make_config() {
	"$new_binary" config example >"$tmp/example.toml" || die "cannot write the example config: tally config example failed"
	awk -v data="$DATA_DIR" '
		/^\[inputs\./ { inputs = 1 }
		/^data_dir = / { print "data_dir = \"" data "\""; next }
		inputs && !/^#/ && !/^$/ { print "# " $0; next }
		{ print }
	' "$tmp/example.toml" >"$tmp/tally.toml"
	"$new_binary" config check "$tmp/tally.toml" >/dev/null 2>"$tmp/check.err" ||
		die "the generated config does not pass tally config check: $(cat "$tmp/check.err")"
}

ensure_config() {
	make_dir "$CONFIG_DIR" keep
	act chown "0:$group_id" "$fs_root$CONFIG_DIR"
	act chmod 0750 "$fs_root$CONFIG_DIR"
	if [ -e "$fs_root$CONFIG_FILE" ]; then
		say "    ${CONFIG_FILE} exists: kept as it is"
		return 0
	fi
	step "Writing ${CONFIG_FILE} (from tally config example; edit it, then restart tally)"
	write_file "$fs_root$CONFIG_FILE" 0640 <"$tmp/tally.toml"
	act chown "0:$group_id" "$fs_root$CONFIG_FILE"
}

ensure_data_dir() {
	make_dir "$DATA_DIR" keep
	act chown "$user_id:$group_id" "$fs_root$DATA_DIR"
	act chmod 0750 "$fs_root$DATA_DIR"
	say "    data directory ${DATA_DIR} (owned by ${SERVICE_USER})"
}

detect_init() {
	if [ -n "${TALLY_INIT:-}" ]; then
		case $TALLY_INIT in
		systemd | openrc | none) init=$TALLY_INIT ;;
		*) die "TALLY_INIT must be systemd, openrc or none, not \"$TALLY_INIT\"" ;;
		esac
	elif [ -d "$fs_root/run/systemd/system" ]; then
		init=systemd
	elif [ -n "$ROOT" ] && { [ -x "$ROOT/lib/systemd/systemd" ] || [ -x "$ROOT/usr/lib/systemd/systemd" ]; }; then
		# An image being built: systemd is installed there, though not running.
		init=systemd
	elif [ -x "$fs_root/sbin/openrc-run" ] || [ -x "$fs_root/usr/sbin/openrc-run" ]; then
		init=openrc
	else
		init=none
	fi
	# Into TALLY_ROOT nothing can be started: only enabled, offline.
	if [ -n "$ROOT" ] && [ -z "${TALLY_SYSTEMCTL:-}${TALLY_RC_SERVICE:-}" ]; then offline=1; else offline=0; fi
	systemctl_cmd=${TALLY_SYSTEMCTL:-systemctl}
	rc_service_cmd=${TALLY_RC_SERVICE:-rc-service}
	rc_update_cmd=${TALLY_RC_UPDATE:-rc-update}
}

systemd_unit() {
	cat <<EOF
# Written by tally's install.sh, which rewrites it on upgrade: put local changes in a drop-in
# (systemctl edit tally), which survives upgrades.
[Unit]
Description=tally metrics collector
Wants=network-online.target
After=network-online.target

[Service]
Type=simple
User=${SERVICE_USER}
Group=${SERVICE_USER}
ExecStart=${bin_path} run --config ${CONFIG_FILE}
WorkingDirectory=${DATA_DIR}
Restart=on-failure
RestartSec=5s
# tally stops in order (inputs, drain, final flush) well within this.
TimeoutStopSec=30s
StateDirectory=tally
StateDirectoryMode=0750
RuntimeDirectory=tally
UMask=0027
LimitNOFILE=65536

# Hardening (systemd.exec(5)). No MemoryDenyWriteExecute: the JavaScript JIT needs it.
NoNewPrivileges=yes
ProtectSystem=strict
ReadWritePaths=${DATA_DIR}
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
ProtectProc=invisible
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
RemoveIPC=yes
PrivateMounts=yes
SystemCallArchitectures=native
# Every system call tally makes (inputs, store, HTTP, scripts) is in @system-service; one outside it
# fails with EPERM instead of killing the process.
SystemCallFilter=@system-service
SystemCallErrorNumber=EPERM
CapabilityBoundingSet=
AmbientCapabilities=

[Install]
WantedBy=multi-user.target
EOF
}

openrc_script() {
	cat <<EOF
#!/sbin/openrc-run
# Written by tally's install.sh, which rewrites it on upgrade.
name="tally"
description="tally metrics collector"
command="${bin_path}"
command_args="run --config ${CONFIG_FILE}"
command_user="${SERVICE_USER}:${SERVICE_USER}"
supervisor="supervise-daemon"
respawn_delay=5
directory="${DATA_DIR}"
output_log="${LOG_DIR}/tally.log"
error_log="${LOG_DIR}/tally.log"

depend() {
	need net
	after firewall
}

start_pre() {
	checkpath --directory --owner ${SERVICE_USER}:${SERVICE_USER} --mode 0750 ${DATA_DIR} /run/tally ${LOG_DIR}
}
EOF
}

# Writes $2 (the content in file $1) to path $2 unless it is already there; sets unit_changed.
place_service_file() {
	if [ -f "$fs_root$2" ] && cmp -s "$1" "$fs_root$2"; then
		say "    ${2} is up to date"
		return 0
	fi
	make_dir "$(dirname "$2")"
	step "Writing ${2}"
	write_file "$fs_root$2" "$3" <"$1"
	record file "$2"
	unit_changed=1
}

ensure_service() {
	unit_changed=0
	case $init in
	systemd)
		systemd_unit >"$tmp/tally.service"
		place_service_file "$tmp/tally.service" "$UNIT_FILE" 0644
		if [ "$offline" = 1 ]; then
			step "Enabling tally.service in ${ROOT} (not started: nothing runs there)"
			act systemctl --root="$ROOT" --quiet enable tally.service
			return 0
		fi
		if [ "$unit_changed" = 1 ]; then act "$systemctl_cmd" daemon-reload; fi
		act "$systemctl_cmd" --quiet enable tally.service
		if "$systemctl_cmd" --quiet is-active tally.service; then
			if [ "$binary_changed" = 1 ] || [ "$unit_changed" = 1 ]; then
				step "Restarting tally.service"
				act "$systemctl_cmd" restart tally.service
			else
				step "tally.service is running, nothing changed"
			fi
		else
			step "Starting tally.service"
			act "$systemctl_cmd" start tally.service
		fi
		;;
	openrc)
		openrc_script >"$tmp/tally.openrc"
		place_service_file "$tmp/tally.openrc" "$OPENRC_FILE" 0755
		# start_pre creates the log directory; --purge removes it.
		record keep "$LOG_DIR"
		if [ "$offline" = 1 ]; then
			step "Enabling tally in the default runlevel of ${ROOT} (not started: nothing runs there)"
			make_dir /etc/runlevels/default
			act ln -sf "$OPENRC_FILE" "$ROOT/etc/runlevels/default/tally"
			record file /etc/runlevels/default/tally
			return 0
		fi
		act "$rc_update_cmd" add tally default
		if "$rc_service_cmd" tally status >/dev/null 2>&1; then
			if [ "$binary_changed" = 1 ] || [ "$unit_changed" = 1 ]; then
				step "Restarting tally"
				act "$rc_service_cmd" tally restart
			else
				step "tally is running, nothing changed"
			fi
		else
			step "Starting tally"
			act "$rc_service_cmd" tally start
		fi
		;;
	none)
		step "No systemd or OpenRC found: start tally with your supervisor, as user ${SERVICE_USER}:"
		say "    ${bin_path} run --config ${CONFIG_FILE}"
		;;
	esac
}

install_all() {
	detect_target_if_needed
	if [ "$with_service" = 1 ]; then mode="as a service"; else mode="binary only"; fi
	[ -z "$ROOT" ] || mode="$mode, into $ROOT"
	if [ -n "$file" ] && [ -z "$explicit_version" ]; then
		step "tally from ${file} (${detected}), ${mode}"
	else
		step "tally ${version} for ${target} (${detected}), ${mode}"
	fi
	obtain_binary
	if [ "$with_service" = 1 ]; then
		detect_init
		make_config
	fi
	install_binary
	if [ "$with_service" = 1 ]; then
		ensure_user
		_ids=$(user_ids)
		if [ -z "$_ids" ]; then
			[ "$dry_run" = 1 ] || die "the ${SERVICE_USER} user is missing after creating it"
			_ids="${SERVICE_USER}:${SERVICE_USER}"
		fi
		user_id=${_ids%%:*}
		group_id=${_ids#*:}
		ensure_config
		ensure_data_dir
		ensure_service
	fi
	if [ "$dry_run" = 1 ]; then
		step "Dry run: nothing was changed"
		return 0
	fi
	step "Done: ${bin_path} is ${new_version_line}"
	if [ "$with_service" = 1 ]; then
		say "    config: ${CONFIG_FILE} (restart tally after editing it); data: ${DATA_DIR}"
		case $init in
		systemd) say "    status: systemctl status tally; logs: journalctl -u tally -f" ;;
		openrc) say "    status: rc-service tally status; logs: ${LOG_DIR}/tally.log" ;;
		esac
	fi
	if [ "$system" = 0 ]; then
		case ":${PATH}:" in
		*":$prefix/bin:"*) ;;
		*) say "    ${prefix}/bin is not on your PATH: add it, or run ${bin_path} directly" ;;
		esac
	fi
}

detect_target_if_needed() {
	if [ -n "$target" ]; then
		detected="chosen with --target"
		if [ -d "$file" ]; then file="${file%/}/tally-$target"; fi
	elif [ -d "$file" ]; then
		# An unpacked release: this machine's binary from it.
		detect_target
		file="${file%/}/tally-$target"
	elif [ -n "$file" ]; then
		target=$(basename "$file")
		target=${target#tally-}
		detected="from --file"
	else
		detect_target
	fi
	asset="tally-$target"
}

# ---------------------------------------------------------------------------------------------------
# Uninstalling

# Stops and disables the service this installer set up (the unit or script is in the manifest).
stop_service() {
	detect_init
	if grep -qxF "file $UNIT_FILE" "$list" && [ -f "$fs_root$UNIT_FILE" ]; then
		if [ "$offline" = 1 ]; then
			act systemctl --root="$ROOT" --quiet disable tally.service
		else
			if "$systemctl_cmd" --quiet is-active tally.service; then
				step "Stopping tally.service"
				act "$systemctl_cmd" stop tally.service
			fi
			act "$systemctl_cmd" --quiet disable tally.service
		fi
	fi
	if grep -qxF "file $OPENRC_FILE" "$list" && [ -f "$fs_root$OPENRC_FILE" ] && [ "$offline" = 0 ]; then
		if "$rc_service_cmd" tally status >/dev/null 2>&1; then
			step "Stopping tally"
			act "$rc_service_cmd" tally stop
		fi
		act "$rc_update_cmd" del tally default
	fi
}

remove_user() {
	[ -n "$(user_ids)" ] || return 0
	step "Removing user ${SERVICE_USER}"
	if command -v userdel >/dev/null 2>&1; then
		if [ -n "$ROOT" ]; then set -- --prefix "$ROOT"; else set --; fi
		act userdel "$@" "$SERVICE_USER"
		if [ -n "$ROOT" ]; then _groups="$ROOT/etc/group"; else _groups=/etc/group; fi
		if grep -q "^${SERVICE_USER}:" "$_groups" 2>/dev/null && command -v groupdel >/dev/null 2>&1; then
			act groupdel "$@" "$SERVICE_USER"
		fi
	elif command -v deluser >/dev/null 2>&1; then
		act deluser "$SERVICE_USER"
	else
		say "    no userdel or deluser: remove the ${SERVICE_USER} user yourself"
	fi
}

uninstall_all() {
	step "Uninstalling tally from ${prefix}${ROOT:+ in $ROOT}"
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/tally-install.XXXXXX")
	list=$tmp/manifest
	if [ -f "$fs_root$manifest" ]; then
		cp "$fs_root$manifest" "$list"
	else
		# Installed by hand or by an older installer: what this one would have created.
		# The service files count only when they run this binary.
		printf 'file %s\n' "$bin_path" >"$list"
		if [ "$system" = 1 ]; then
			if grep -qF "ExecStart=$bin_path " "$fs_root$UNIT_FILE" 2>/dev/null; then
				printf 'file %s\n' "$UNIT_FILE" >>"$list"
			fi
			if grep -qF "command=\"$bin_path\"" "$fs_root$OPENRC_FILE" 2>/dev/null; then
				printf 'file %s\n' "$OPENRC_FILE" /etc/runlevels/default/tally >>"$list"
			fi
			printf 'keep %s\n' "$CONFIG_DIR" "$DATA_DIR" "$LOG_DIR" >>"$list"
		fi
	fi
	if [ "$system" = 1 ]; then stop_service; fi
	# Newest first, so that files go before the directories that hold them. The manifest and its folders
	# go last, and only when nothing it lists is left: what --uninstall keeps, --purge can still find.
	awk '{ line[NR] = $0 } END { for (i = NR; i > 0; i--) print line[i] }' "$list" >"$tmp/reverse"
	: >"$tmp/left"
	while read -r kind path; do
		case $manifest in
		"$path" | "$path"/*) continue ;;
		esac
		case $kind in
		file)
			if [ -e "$fs_root$path" ] || [ -L "$fs_root$path" ]; then
				say "    removing ${path}"
				act rm -f "$fs_root$path"
			fi
			;;
		dir)
			if [ -d "$fs_root$path" ]; then
				if [ "$dry_run" = 1 ] || rmdir "$fs_root$path" 2>/dev/null; then
					say "    removing directory ${path}"
				else
					echo "$kind $path" >>"$tmp/left"
				fi
			fi
			;;
		keep)
			if [ -e "$fs_root$path" ]; then
				if [ "$purge" = 1 ]; then
					say "    removing ${path} and everything in it (--purge)"
					act rm -rf "$fs_root$path"
				else
					say "    kept ${path} (remove it with --uninstall --purge)"
					echo "$kind $path" >>"$tmp/left"
				fi
			fi
			;;
		user)
			if [ "$purge" = 1 ]; then
				remove_user
			else
				say "    kept user ${path} (--purge removes it)"
				echo "$kind $path" >>"$tmp/left"
			fi
			;;
		esac
	done <"$tmp/reverse"
	if [ -f "$fs_root$manifest" ] && [ "$dry_run" = 0 ]; then
		if [ -s "$tmp/left" ]; then
			# The manifest's own lines, then what is left, oldest first again.
			: >"$tmp/own"
			while read -r kind path; do
				case $manifest in
				"$path" | "$path"/*) echo "$kind $path" >>"$tmp/own" ;;
				esac
			done <"$list"
			awk '{ line[NR] = $0 } END { for (i = NR; i > 0; i--) print line[i] }' "$tmp/left" >>"$tmp/own"
			cat "$tmp/own" >"$fs_root$manifest"
		else
			say "    removing ${manifest}"
			rm -f "$fs_root$manifest"
			while read -r kind path; do
				case $manifest in
				"$path"/*)
					if [ "$kind" = dir ] && rmdir "$fs_root$path" 2>/dev/null; then
						say "    removing directory ${path}"
					fi
					;;
				esac
			done <"$tmp/reverse"
		fi
	fi
	if [ "$system" = 1 ] && [ "$offline" = 0 ] && grep -qxF "file $UNIT_FILE" "$list"; then
		act "$systemctl_cmd" daemon-reload
	fi
	if [ "$dry_run" = 1 ]; then step "Dry run: nothing was changed"; else step "Uninstalled"; fi
}

if [ "$uninstall" = 1 ]; then uninstall_all; else install_all; fi

#!/usr/bin/env bash
# Installs and starts everything Go Perf Lens's tests, demo and benchmarks need on a Debian 12
# machine, as root. Idempotent: each step checks before it acts, so a second run takes seconds.
#   GPL_TOOLS   where VS Code server + playwright are cached (default /var/cache/go-perf-lens)
#   GPL_SKIP_VSCODE=1  skip the VS Code server (unit tests and the demo do not need it)
set -euo pipefail
TOOLS=${GPL_TOOLS:-/var/cache/go-perf-lens}
log() { printf '[setup] %s\n' "$*" >&2; }

if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then exec sudo -E bash "$0" "$@"; fi
  log "run as root (or with passwordless sudo): installing packages and mounting tracefs needs it"; exit 1
fi
export DEBIAN_FRONTEND=noninteractive

# --- Debian packages --------------------------------------------------------------------------
BACKPORTS=/etc/apt/sources.list.d/go-perf-lens-backports.sources
if [ ! -f "$BACKPORTS" ]; then
  cat > "$BACKPORTS" <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  rm -f /var/lib/apt/periodic/go-perf-lens-updated
fi
PKGS=(linux-perf bpfcc-tools python3-bpfcc bpftrace linux-headers-6.1.0-50-cloud-amd64 golang-go
      llvm binutils gcc openssh-server chromium libkrb5-dev ripgrep procps psmisc sudo openssl)
BPKGS=(golang-1.21-go golang-1.22-go golang-1.23-go)
missing=()
for p in "${PKGS[@]}" "${BPKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing: ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${PKGS[@]}" >/dev/null
  apt-get install -y -qq --no-install-recommends -t bookworm-backports "${BPKGS[@]}" >/dev/null
fi

# --- kernel side: tracefs, headers for BCC -----------------------------------------------------
if ! mountpoint -q /sys/kernel/tracing; then
  mount -t tracefs nodev /sys/kernel/tracing || log "could not mount tracefs (tracepoints and clean uprobe detach need it)"
fi
K=$(uname -r)
if [ ! -e "/lib/modules/$K/build/include" ]; then
  if [ -d "/usr/src/linux-headers-$K" ]; then H="/usr/src/linux-headers-$K"; C="$H"
  else H=/usr/src/linux-headers-6.1.0-50-cloud-amd64; C=/usr/src/linux-headers-6.1.0-50-common; fi
  mkdir -p "/lib/modules/$K"
  ln -sfn "$H" "/lib/modules/$K/build"; ln -sfn "$C" "/lib/modules/$K/source"
  log "kernel headers for BCC: $H"
fi

# --- VS Code server (code-server's) + playwright-core for the real-VS-Code tests ----------------
vscode_ready() {
  [ -f "$TOOLS/.vscode-ready-4.100.3" ] && [ -f "$TOOLS/node_modules/code-server/lib/vscode/out/server-main.js" ] \
    && [ -f "$TOOLS/node_modules/playwright-core/package.json" ]
}
if [ "${GPL_SKIP_VSCODE:-0}" != 1 ] && ! vscode_ready; then
  log "installing VS Code server 1.100.3 and playwright-core into $TOOLS (once)"
  mkdir -p "$TOOLS"; cd "$TOOLS"
  [ -f package.json ] || echo '{"name":"go-perf-lens-tools","private":true}' > package.json
  npm install --no-audit --no-fund --ignore-scripts code-server@4.100.3 playwright-core@1 >/dev/null
  cd node_modules/code-server/lib/vscode
  npm install --no-audit --no-fund --omit=dev --ignore-scripts >/dev/null
  npm_config_yes=true npm rebuild kerberos node-pty @parcel/watcher @vscode/spdlog @vscode/deviceid native-watchdog >/dev/null
  mkdir -p node_modules/@vscode/ripgrep/bin && ln -sf /usr/bin/rg node_modules/@vscode/ripgrep/bin/rg
  ln -sfn node_modules node_modules.asar
  (cd extensions && npm install --no-audit --no-fund --omit=dev --ignore-scripts >/dev/null)
  cd "$TOOLS"; npm_config_yes=true npm rebuild argon2 >/dev/null || true
  touch "$TOOLS/.vscode-ready-4.100.3"
fi
log "ready"

#!/bin/bash
# Set mdrun up on a Debian 12 machine, as root: system packages, a release build installed as
# /usr/local/bin/mdrun, the global config in /etc/mdrun, and a `busybox` image made from
# Debian's busybox-static. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")"

[ "$(id -u)" = 0 ] || { echo "install.sh: run as root" >&2; exit 1; }
# A Rust toolchain: rustup's when there is one, else Debian 12's own recent one (cargo-web,
# rustc-web: Rust 1.8x+, kept current for the browsers; the plain `cargo` package is 1.63,
# below mdrun's MSRV).
if ! command -v cargo >/dev/null && [ -f "$HOME/.cargo/env" ]; then . "$HOME/.cargo/env"; fi
if ! command -v cargo >/dev/null; then
  echo "install.sh: no cargo on PATH: installing Debian's cargo-web and rustc-web" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends cargo-web rustc-web build-essential pkg-config >/dev/null
fi

pkgs=(busybox-static zstd util-linux iproute2 nftables)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install.sh: installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

echo "install.sh: building mdrun (release)" >&2
cargo build --release --quiet
install -m 0755 target/release/mdrun /usr/local/bin/mdrun
install -m 0755 target/release/mdrun-oci /usr/local/bin/mdrun-oci
install -d -m 0755 /etc/mdrun /etc/mdrun/containers
[ -e /etc/mdrun/mdrun.toml ] || install -m 0644 config/mdrun.toml /etc/mdrun/mdrun.toml
install -D -m 0644 units/mdrun@.service /etc/systemd/system/mdrun@.service
install -D -m 0644 units/mdrun-restart.service /etc/systemd/system/mdrun-restart.service
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload || true
  # `always` and `unless-stopped` containers come back after a reboot.
  systemctl enable mdrun-restart.service >/dev/null 2>&1 || true
fi
# Shell completions and man pages, generated from the binary's own command-line definitions.
/usr/local/bin/mdrun completion bash | install -D -m 0644 /dev/stdin /usr/share/bash-completion/completions/mdrun
/usr/local/bin/mdrun completion zsh | install -D -m 0644 /dev/stdin /usr/local/share/zsh/site-functions/_mdrun
/usr/local/bin/mdrun completion fish | install -D -m 0644 /dev/stdin /usr/share/fish/vendor_completions.d/mdrun.fish
install -d -m 0755 /usr/local/share/man/man1
/usr/local/bin/mdrun __man /usr/local/share/man/man1

if ! /usr/local/bin/mdrun images --format json | grep -q '"busybox:latest"'; then
  tar=$(mktemp /tmp/mdrun-busybox.XXXXXX.tar)
  trap 'rm -f "$tar"' EXIT
  bash scripts/busybox-rootfs.sh "$tar"
  /usr/local/bin/mdrun import "$tar" busybox >/dev/null
  echo "install.sh: imported image busybox" >&2
fi
echo "install.sh: done; try: mdrun --memory 100m busybox sh" >&2

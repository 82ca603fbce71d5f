#!/usr/bin/env bash
# Installs what this project needs on a Debian 12 machine and is safe to rerun:
# system packages only when one is missing, then the locked npm packages.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v verilator >/dev/null || need+=(verilator)
command -v ccache >/dev/null || need+=(ccache)
command -v tshark >/dev/null || need+=(tshark)
command -v fst2vcd >/dev/null || need+=(gtkwave)   # fst2vcd, to read waveforms in tests and by hand
command -v genhtml >/dev/null || need+=(lcov)      # genhtml, the HTML report of `make coverage`
[ -f /usr/include/zmq.h ] || need+=(libzmq3-dev)
[ -f /usr/include/zmq.hpp ] || need+=(cppzmq-dev)
command -v make >/dev/null || need+=(make)
command -v g++ >/dev/null || need+=(g++)

if [ ${#need[@]} -gt 0 ]; then
  echo "deps: installing ${need[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  # tshark asks whether non-root users may capture; answer no without a prompt.
  echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

# Yosys is the npm package @yowasp/yosys (pinned in package.json), installed here with the rest.
if [ -d node_modules ] && npm ls --depth=0 >/dev/null 2>&1 && [ node_modules/.package-lock.json -nt package-lock.json ]; then
  echo "deps: npm packages up to date"
else
  npm ci --no-audit --no-fund
fi
echo "deps: ok (verilator $(verilator --version | awk '{print $2}'), node $(node --version))"

#!/usr/bin/env bash
# Installs the system packages ikescope needs to build and test on Debian 12:
# libpcap-dev (the pcap crate links libpcap), tshark (parser cross-check), prometheus (promtool
# for rules and metrics, the server for the lab test), tcpdump (benchmark
# reference). Does nothing when they are already there.
set -euo pipefail
pkgs=(libpcap-dev tshark tcpdump prometheus python3 ethtool iproute2 strongswan-charon strongswan-swanctl libstrongswan-standard-plugins libstrongswan-extra-plugins libcharon-extra-plugins libnss3-tools libcurl3-nss libldns3 libunbound8 libevent-core-2.1-7 libevent-pthreads-2.1-7 libcap-ng0 dns-root-data)
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"

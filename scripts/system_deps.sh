#!/usr/bin/env bash
# System libraries the Python stack needs but pip cannot install:
# open3d (imported by `ns-export`) links libusb-1.0; ffmpeg-free video writing uses imageio-ffmpeg's binary;
# the browser tests drive the viewer in Debian's Chromium (through playwright, which then downloads no browser).
set -euo pipefail
missing=()
ldconfig -p 2>/dev/null | grep -q 'libusb-1.0.so.0' || missing+=(libusb-1.0-0)
ldconfig -p 2>/dev/null | grep -q 'libGL.so.1' || missing+=(libgl1)
ldconfig -p 2>/dev/null | grep -q 'libgomp.so.1' || missing+=(libgomp1)
browser=()
command -v chromium >/dev/null || command -v chromium-browser >/dev/null || browser+=(chromium)
[ ${#missing[@]} -eq 0 ] && [ ${#browser[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing system packages: ${missing[*]} ${browser[*]}"
  apt-get update -qq >/dev/null
  if [ ${#missing[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  # The browser only serves the browser tests, which skip without it: a failed install warns instead of stopping.
  if [ ${#browser[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null ||
      echo "warning: could not install chromium; the browser tests will skip" >&2
  fi
else
  echo "warning: system packages missing (${missing[*]} ${browser[*]}); install them with:" \
    "sudo apt-get install ${missing[*]} ${browser[*]}" >&2
fi

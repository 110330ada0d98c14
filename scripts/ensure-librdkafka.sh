#!/usr/bin/env bash
# Installs Debian's librdkafka1 (the native library Confluent.Kafka 1.9.3 loads) when it is missing.
set -euo pipefail
if ldconfig -p 2>/dev/null | grep -q 'librdkafka\.so\.1 '; then exit 0; fi
if [[ $EUID -ne 0 ]]; then echo "librdkafka1 is missing; run as root or: sudo apt-get install -y librdkafka1" >&2; exit 1; fi
echo "Installing librdkafka1..." >&2
apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq librdkafka1 >&2

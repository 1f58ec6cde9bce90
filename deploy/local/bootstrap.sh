#!/usr/bin/env bash
# Installs everything premiums needs on a fresh Debian machine, once: Python packages (uv, one lock file),
# PostgreSQL and kcat from Debian's packages, Maven when missing, and Apache Kafka's jars from Maven Central.
# Safe to run again: each step checks first. Needs Python 3.11+ and Java 17+.
set -euo pipefail
cd "$(dirname "$0")/../.."
say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

PYTHON=${PYTHON:-}
if [ -z "$PYTHON" ]; then
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      PYTHON=$(command -v "$candidate"); break
    fi
  done
fi
[ -n "$PYTHON" ] || die "Python 3.11 or newer is required (python3 --version)."

command -v java >/dev/null || die "Java 17 or newer is required to run Apache Kafka (apt-get install openjdk-17-jre-headless)."
java_major=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)
[ "${java_major:-0}" -ge 17 ] || die "Java ${java_major:-?} found; Apache Kafka 4 needs Java 17 or newer."

apt_packages=()
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || apt_packages+=(postgresql)
command -v kcat >/dev/null || apt_packages+=(kcat)
command -v mvn >/dev/null || apt_packages+=(maven)
command -v chromium >/dev/null || apt_packages+=(chromium)  # screenshots of rendered notices in the tests
if [ ${#apt_packages[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    say "installing ${apt_packages[*]} from Debian's packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends "${apt_packages[@]}" >/dev/null
  else
    die "please install these Debian packages first: sudo apt-get install ${apt_packages[*]}"
  fi
fi

if ! command -v uv >/dev/null; then
  say "installing uv (the Python package manager) from PyPI"
  "$PYTHON" -m pip install --quiet --user uv 2>/dev/null || "$PYTHON" -m pip install --quiet uv
  export PATH="$HOME/.local/bin:$PATH"
fi

export UV_PYTHON_DOWNLOADS=never UV_PYTHON="$PYTHON"
say "installing the Python workspace (uv sync --frozen)"
uv sync --frozen --quiet

if ! ls deploy/kafka/target/libs/kafka_2.13-*.jar >/dev/null 2>&1; then
  say "fetching Apache Kafka's jars from Maven Central (once, about 20 s)"
  mvn -B -q -f deploy/kafka/pom.xml package
fi
if ! command -v kustomize >/dev/null && [ ! -x "$(go env GOPATH 2>/dev/null)/bin/kustomize" ]; then
  command -v go >/dev/null || die "Go is required to install kustomize (the Kubernetes manifests are rendered in the tests)."
  say "installing kustomize from the Go module proxy (once, about 2 minutes)"
  GOFLAGS=-mod=mod go install sigs.k8s.io/kustomize/kustomize/v5@v5.6.0
fi
# The SMTP sink in Go (standard library only, so it builds offline); `premiums stack up` rebuilds it when stale.
sink=.local/bin/premiums-smtp-sink
if ! command -v go >/dev/null; then
  say "Go not found: the local stack will use the Python SMTP sink"
elif [ ! -x "$sink" ] || [ deploy/smtp-sink/main.go -nt "$sink" ] || [ deploy/smtp-sink/go.mod -nt "$sink" ]; then
  say "building the Go SMTP sink into $sink"
  mkdir -p .local/bin
  if (cd deploy/smtp-sink && GOTOOLCHAIN=local GOPROXY=off GOFLAGS= go build -trimpath -buildvcs=false -o "../../$sink.tmp" .); then
    mv -f "$sink.tmp" "$sink"
  else
    rm -f "$sink.tmp"
    say "the Go SMTP sink did not build: the local stack will use the Python SMTP sink"
  fi
fi
say "ready"

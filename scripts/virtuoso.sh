#!/usr/bin/env bash
# Virtuoso Open Source for kgraph's remote-endpoint tests (Debian package virtuoso-opensource).
#
#   bash scripts/virtuoso.sh install        install the package if virtuoso-t is missing (idempotent; root or sudo)
#   bash scripts/virtuoso.sh start DIR      start an instance in DIR (created; database, logs, virtuoso.ini)
#                                           on free loopback ports, in the background; waits until its
#                                           SPARQL endpoint answers, then prints  SPARQL=http://127.0.0.1:PORT/sparql
#                                           (also written to DIR/endpoint)
#   bash scripts/virtuoso.sh run DIR        the same, in the foreground (Ctrl-C stops it)
#   bash scripts/virtuoso.sh stop DIR       stop the instance started in DIR
#
# The package is installed with a temporary /usr/sbin/policy-rc.d that exits 101, so apt does not
# start (or fail to start) the system service; the instance here uses its own copy of virtuoso.ini
# whose every file and port points into DIR. The SPARQL endpoint is /sparql (default graph = union
# of all graphs); Graph Store Protocol writes go to /sparql-graph-crud-auth with HTTP digest auth
# (dba/dba, the package default; the instance listens on 127.0.0.1 only).
set -euo pipefail

PACKAGE=virtuoso-opensource
# the server found on PATH (or $KGRAPH_VIRTUOSO); looked up again after an install
find_bin() { echo "${KGRAPH_VIRTUOSO:-$(command -v virtuoso-t || echo virtuoso-t)}"; }
BIN=$(find_bin)
INI=/etc/virtuoso-opensource-7/virtuoso.ini

say() { echo "virtuoso.sh: $*" >&2; }

install() {
    if [ -x "$BIN" ] && [ -f "$INI" ]; then
        say "$BIN already present; nothing to do"
        return 0
    fi
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then sudo=(sudo); else
            say "$BIN is missing and this user is not root (no sudo): run as root: bash $0 install"; exit 1; fi
    fi
    command -v apt-get >/dev/null 2>&1 || { say "apt-get not found: install Debian's $PACKAGE by hand"; exit 1; }
    # a policy-rc.d that exits 101 tells invoke-rc.d not to start services during the install
    local policy=/usr/sbin/policy-rc.d saved=""
    if [ -e "$policy" ]; then saved=$(mktemp); "${sudo[@]}" cp -p "$policy" "$saved"; fi
    printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
    "${sudo[@]}" chmod 755 "$policy"
    restore() {
        if [ -n "$saved" ]; then "${sudo[@]}" cp -p "$saved" "$policy"; rm -f "$saved"; else "${sudo[@]}" rm -f "$policy"; fi
    }
    trap restore EXIT
    say "running: apt-get update"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
    say "running: apt-get install -y $PACKAGE"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold $PACKAGE >&2
    restore
    trap - EXIT
    BIN=$(find_bin)
    [ -x "$BIN" ] || { say "apt-get finished but virtuoso-t is not on PATH"; exit 1; }
    say "installed $($BIN +version 2>&1 | grep -m1 -i "^version" || echo "$PACKAGE")"
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

configure() {  # configure DIR: a virtuoso.ini whose files and ports are all inside DIR / free
    local dir=$1
    [ -x "$BIN" ] && [ -f "$INI" ] || { say "Virtuoso is not installed: run: bash $0 install"; exit 1; }
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    local sql http
    sql=$(free_port); http=$(free_port)
    while [ "$http" = "$sql" ]; do http=$(free_port); done
    # every file setting of [Database] and [TempDatabase] gets its own name in DIR
    awk -v dir="$dir" -v sql="$sql" -v http="$http" '
        /^\[/ { section = $0 }
        {
            key = $1
            if (key ~ /^(DatabaseFile|ErrorLogFile|LockFile|TransactionFile|xa_persistent_file)$/ \
                && (section == "[Database]" || section == "[TempDatabase]")) {
                tag = (section == "[TempDatabase]") ? "temp" : "db"
                ext = key; sub(/File$/, "", ext); sub(/_file$/, "", ext)
                print key " = " dir "/" tag "-" tolower(ext); next
            }
            if (key == "ServerPort" && section == "[Parameters]") {
                print "ServerPort = 127.0.0.1:" sql
                # kgraph queries sort up to 20,000 rows (icd10cm_changes); the default allows 10,000
                print "MaxSortedTopRows = 1000000"
                next
            }
            if (key == "ServerPort" && section == "[HTTPServer]") { print "ServerPort = 127.0.0.1:" http; next }
            if (key == "DirsAllowed") { print "DirsAllowed = ., " dir ", /usr/share/virtuoso-opensource-7/vad"; next }
            if (key == "ResultSetMaxRows" && section == "[SPARQL]") { print "ResultSetMaxRows = 1000000"; next }
            print
        }' "$INI" > "$dir/virtuoso.ini"
    echo "http://127.0.0.1:$http/sparql" > "$dir/endpoint"
    echo "$dir"
}

wait_ready() {  # wait_ready DIR PID: until /sparql answers (60 s at most)
    local dir=$1 pid=$2 url
    url=$(cat "$dir/endpoint")
    for _ in $(seq 1 300); do
        if ! kill -0 "$pid" 2>/dev/null; then
            say "virtuoso-t exited while starting; its log:"; tail -20 "$dir/virtuoso.out" >&2 || true; exit 1
        fi
        if python3 - "$url" <<'PY' 2>/dev/null; then
import sys, urllib.parse, urllib.request
q = urllib.parse.urlencode({"query": "ASK {}"})
with urllib.request.urlopen(sys.argv[1] + "?" + q, timeout=2) as r:
    sys.exit(0 if r.status == 200 else 1)
PY
            return 0
        fi
        sleep 0.2
    done
    say "no answer from $url after 60 s; log:"; tail -20 "$dir/virtuoso.out" >&2 || true
    kill "$pid" 2>/dev/null || true
    exit 1
}

start() {
    local dir
    dir=$(configure "$1")
    cd "$dir"
    "$BIN" +foreground +configfile "$dir/virtuoso.ini" > "$dir/virtuoso.out" 2>&1 &
    local pid=$!
    echo "$pid" > "$dir/virtuoso.pid"
    wait_ready "$dir" "$pid"
    say "started pid $pid in $dir"
    echo "SPARQL=$(cat "$dir/endpoint")"
}

run() {
    local dir
    dir=$(configure "$1")
    cd "$dir"
    say "SPARQL endpoint: $(cat "$dir/endpoint") (Ctrl-C stops it)"
    exec "$BIN" +foreground +configfile "$dir/virtuoso.ini"
}

stop() {
    local dir=$1 pid
    [ -f "$dir/virtuoso.pid" ] || { say "no instance recorded in $dir"; return 0; }
    pid=$(cat "$dir/virtuoso.pid")
    if kill -0 "$pid" 2>/dev/null; then
        kill "$pid"
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    fi
    rm -f "$dir/virtuoso.pid"
    say "stopped pid $pid"
}

case "${1:-}" in
    install) install ;;
    start) [ $# -eq 2 ] || { say "usage: $0 start DIR"; exit 2; }; start "$2" ;;
    run) [ $# -eq 2 ] || { say "usage: $0 run DIR"; exit 2; }; run "$2" ;;
    stop) [ $# -eq 2 ] || { say "usage: $0 stop DIR"; exit 2; }; stop "$2" ;;
    *) say "usage: $0 install | start DIR | run DIR | stop DIR"; exit 2 ;;
esac

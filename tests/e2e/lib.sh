# shellcheck shell=bash
# Shell plumbing shared by the e2e tests (tests/e2e/*_test.sh) and tests/demo.sh: one copy of
# the unique lab prefix, the cleanup trap, starting and stopping processes by PID, vsgated and its
# control socket, polling, PASS/FAIL counting and skipping. Sourced, never run; works under
# `set -euo pipefail`. The lab topology itself stays in tests/lab/lab.sh, which this only calls.
#
# A script goes:
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#   e2e_init foundation_test vsg    # name for messages; LAB_PREFIX = vsg<pid>
#   need_root; need_tools python3   # preconditions: FAIL and exit 1 (skip ...: exit 77)
#   e2e_start                       # TMP, CONF, DAEMON_LOG; cleanup on exit, Ctrl-C, TERM
#   lab_up --rs 3                   # APP_NS CLIENT_NS SERVER_NS, CONF written, SOCK
#   daemon_start; daemon_wait_ctl 30 || ...
#   pass "..." / fail "..."
#   e2e_finish                      # summary; exit 1 if a check failed
#
# Globals the scripts use: LAB (lab.sh; the scripts may set it before e2e_init), VSGATED,
# VSGATECTL and VSGATE_SNMP (set by the scripts), TMP, CONF, SOCK, APP_NS, CLIENT_NS, SERVER_NS,
# DAEMON_PID, DAEMON_LOG, NOTIFY_SOCK, NOTIFY_LOG, SNMPD_PID, SNMPD_LOG, SNMP_PORT, AGENTX,
# SUB_PID, SUB_LOG, PASSED, FAILED, STOP_RC, DAEMON_RC, WAITED.
# The variables below are read by the scripts that source this file, not here.
# shellcheck disable=SC2034

E2E_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB=${LAB:-$(realpath -m "$E2E_LIB_DIR/../lab/lab.sh")}
E2E_NAME=e2e
E2E_PIDS=()       # processes this script started and cleanup stops (newest last)
E2E_LOGS=()       # logs whose tail cleanup prints when a check failed
E2E_LAB_UP=0      # 1 once lab_up was called: cleanup removes the lab
E2E_STDOUT=1 E2E_STDERR=2
TMP=""
CONF="" SOCK="" APP_NS="" CLIENT_NS="" SERVER_NS=""
DAEMON_PID="" DAEMON_LOG="" DAEMON_RC="" NOTIFY_PID="" NOTIFY_SOCK="" NOTIFY_LOG=""
SNMPD_PID="" SNMPD_LOG="" SNMP_PORT="" AGENTX="" SUB_PID="" SUB_LOG=""
VSGATED=${VSGATED:-} VSGATECTL=${VSGATECTL:-} VSGATE_SNMP=${VSGATE_SNMP:-}
PASSED=0
FAILED=0
FAILED_NAMES=()
STOP_RC=""
WAITED=""

# --- setup ---------------------------------------------------------------------------------------
# e2e_init NAME TAG: NAME prefixes messages; TAG (3 letters) + the PID is this run's LAB_PREFIX, so
# that concurrent runs never share a namespace, veth, socket or DPDK file prefix. At most 8
# characters: lab.sh derives interface names from it that must fit in IFNAMSIZ. An exported
# LAB_PREFIX wins. The lab is described by lab.sh's options only: LAB_RUN_DIR/LAB_RS/LAB_DR from
# the caller's environment are dropped.
e2e_init() {
  E2E_NAME=$1
  export LAB_PREFIX=${LAB_PREFIX:-$2$(printf '%05d' $(($$ % 100000)))}
  unset LAB_RUN_DIR LAB_RS LAB_DR
}

# e2e_start: the temporary directory (TMP, with CONF and DAEMON_LOG in it) and the traps that
# clean up on any exit: normal, failed (set -e), Ctrl-C or SIGTERM.
e2e_start() {
  TMP=$(mktemp -d "/tmp/vsgate-$E2E_NAME.XXXXXX")
  chmod 755 "$TMP"  # snmpd and the subagent open sockets in it
  CONF=$TMP/vsgate.conf
  DAEMON_LOG=$TMP/vsgated.log
  # The script's own stdout/stderr, for cleanup: a trap runs inside whatever redirection is active
  # when the signal comes (e.g. json_reading's >FILE), and its report must not end up there.
  exec {E2E_STDOUT}>&1 {E2E_STDERR}>&2
  trap e2e_cleanup EXIT
  # INT/TERM only exit: the EXIT trap does the work, once.
  trap 'exit 130' INT TERM
}

# --- results -------------------------------------------------------------------------------------
pass() { echo "PASS: $*"; PASSED=$((PASSED + 1)); }
fail() { echo "FAIL: $*"; FAILED=$((FAILED + 1)); FAILED_NAMES+=("$*"); }
info() { echo "      $*"; }
indent() { sed 's/^/      | /'; }  # indent <FILE: quoted details under a PASS/FAIL line

# e2e_finish: the summary; exits 1 if any check failed, else 0.
e2e_finish() {
  echo
  echo "$E2E_NAME: $PASSED passed, $FAILED failed"
  if ((FAILED > 0)); then
    printf '  failed: %s\n' "${FAILED_NAMES[@]}"
    exit 1
  fi
  exit 0
}

# --- preconditions: never pass silently (a missing facility is a FAIL, or an explicit skip) ------
need_root() {
  if ((EUID != 0)); then
    echo "FAIL: $E2E_NAME needs root (network namespaces); running as uid $EUID"
    exit 1
  fi
}
need_netns() {
  if ! ip netns list >/dev/null 2>&1; then
    echo "FAIL: 'ip netns' is not usable here"
    exit 1
  fi
}
need_exec() {  # need_exec FILE...
  local f
  for f in "$@"; do
    [[ -x "$f" ]] || { echo "FAIL: not executable: $f"; exit 1; }
  done
}
need_tools() {  # need_tools TOOL...
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "FAIL: $tool not installed (packaging/install-deps.sh)"; exit 1; }
  done
}
# skip REASON: the test cannot run here; 77 is the SKIP_RETURN_CODE its ctest registration names.
skip() {
  echo "SKIP: $*"
  exit 77
}

# --- processes, by PID only ----------------------------------------------------------------------
# proc_stat PID: "STATE PPID" of PID, fails if there is no such process. The fields after the
# command name, which is in parentheses and may itself contain spaces and parentheses.
proc_stat() {
  local stat f
  { stat=$(<"/proc/$1/stat"); } 2>/dev/null || return 1
  read -r -a f <<<"${stat##*) }"
  echo "${f[0]} ${f[1]}"
}

# True while PID exists and is not a zombie (our un-waited children stay visible as zombies).
is_running() {
  local st
  st=$(proc_stat "$1") || return 1
  [[ "${st%% *}" != Z ]]
}

pid_gone() { ! is_running "$1"; }

# True if PID is a child of this shell: a PID we reaped earlier may belong to anybody by now.
own_child() {
  local st
  st=$(proc_stat "$1") || return 1
  [[ "${st#* }" == "$$" ]]
}

track() { E2E_PIDS+=("$1"); }  # track PID: cleanup stops it unless stop_pid did already
untrack() {                     # untrack PID: it has been waited for
  local keep=() p
  for p in "${E2E_PIDS[@]}"; do [[ "$p" == "$1" ]] || keep+=("$p"); done
  E2E_PIDS=("${keep[@]}")
}

# stop_pid PID [SECONDS]: SIGTERM, up to SECONDS (5) for it to end, then SIGKILL; reaps it and
# leaves its exit status in STOP_RC ("" for an empty PID). Signals our own children only.
stop_pid() {
  local pid=${1:-} secs=${2:-5} i
  STOP_RC=""
  [[ -n "$pid" ]] || return 0
  if own_child "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < secs * 10; i++)); do
      is_running "$pid" || break
      sleep 0.1
    done
    if is_running "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  wait "$pid" 2>/dev/null && STOP_RC=0 || STOP_RC=$?
  untrack "$pid"
  return 0
}

# wait_for [-i INTERVAL] [-p PID] SECONDS CMD...: runs CMD (output discarded) every INTERVAL
# (0.1) seconds until it succeeds (0) or SECONDS (an integer) have passed (1). -p PID: gives up
# as soon as PID is gone (a daemon that died never becomes ready). WAITED = the seconds it took.
wait_for() {
  local interval=0.1 pid=""
  while (($# > 0)); do
    case "$1" in
      -i) interval=$2; shift 2 ;;
      -p) pid=$2; shift 2 ;;
      *) break ;;
    esac
  done
  local limit=$1 start now
  shift
  start=${EPOCHREALTIME/[.,]/}  # microseconds
  while :; do
    if "$@" >/dev/null 2>&1; then
      now=${EPOCHREALTIME/[.,]/}
      WAITED=$(((now - start) / 1000000)).$(((now - start) / 100000 % 10))
      return 0
    fi
    if [[ -n "$pid" ]] && ! is_running "$pid"; then return 1; fi
    now=${EPOCHREALTIME/[.,]/}
    if ((now - start >= limit * 1000000)); then return 1; fi
    sleep "$interval"
  done
}

# --- the lab -------------------------------------------------------------------------------------
# lab_up [lab.sh up options]: builds the lab (cleanup removes it, also after a half-built 'up'),
# sets APP_NS CLIENT_NS SERVER_NS, writes the lab's vsgated config to CONF, sets SOCK and creates
# its directory.
# shellcheck disable=SC2120 # the arguments are optional
lab_up() {
  E2E_LAB_UP=1
  if ! "$LAB" up "$@"; then
    echo "FAIL: lab.sh up $* failed"
    return 1
  fi
  APP_NS=$("$LAB" ns app)
  CLIENT_NS=$("$LAB" ns client)
  SERVER_NS=$("$LAB" ns server)
  "$LAB" config >"$CONF"
  SOCK=$(sed -n 's/^control_socket *= *//p' "$CONF")
  mkdir -p "$(dirname "$SOCK")"
}

# --- vsgated -------------------------------------------------------------------------------------
# notify_start: a NOTIFY_SOCKET listener (what systemd does for Type=notify): every notification
# line vsgated sends (READY=1, STATUS=..., WATCHDOG=1) is appended to NOTIFY_LOG.
notify_start() {
  NOTIFY_SOCK=$TMP/notify.sock
  NOTIFY_LOG=$TMP/notify.log
  python3 -u -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as out:
    while True:
        for line in s.recv(65536).decode(errors="replace").splitlines():
            out.write(line + "\n")
' "$NOTIFY_SOCK" "$NOTIFY_LOG" &
  NOTIFY_PID=$!
  track "$NOTIFY_PID"
  wait_for 5 test -S "$NOTIFY_SOCK" || true
  : >>"$NOTIFY_LOG"
}

# daemon_start [VAR=VALUE...]: vsgated --config CONF in APP_NS with those variables in its
# environment, output appended to DAEMON_LOG; DAEMON_PID. (ip netns exec and env exec it: the
# PID is vsgated's own.)
# shellcheck disable=SC2120 # the arguments are optional
daemon_start() {
  ip netns exec "$APP_NS" env "$@" "$VSGATED" --config "$CONF" >>"$DAEMON_LOG" 2>&1 &
  DAEMON_PID=$!
  track "$DAEMON_PID"
  E2E_LOGS+=("$DAEMON_LOG")
  info "vsgated pid $DAEMON_PID in $APP_NS, log $DAEMON_LOG"
}

daemon_alive() { [[ -n "$DAEMON_PID" ]] && is_running "$DAEMON_PID"; }

# daemon_wait_ready SECONDS: until vsgated sent READY=1 (needs notify_start and
# NOTIFY_SOCKET=$NOTIFY_SOCK); daemon_wait_ctl SECONDS: until it answers on the control socket.
# Both give up early if vsgated exits.
daemon_wait_ready() { wait_for -p "$DAEMON_PID" "$1" grep -qx 'READY=1' "$NOTIFY_LOG"; }
daemon_wait_ctl() { wait_for -p "$DAEMON_PID" "$1" ctl version; }

# daemon_reap: vsgated has exited (daemon_alive is false): DAEMON_RC = its exit status,
# DAEMON_PID = "".
daemon_reap() {
  stop_pid "$DAEMON_PID"
  DAEMON_RC=$STOP_RC
  DAEMON_PID=""
}

# daemon_term [SECONDS]: SIGTERM to vsgated, up to SECONDS (10) for it to exit. 0: it did,
# DAEMON_RC = its exit status, DAEMON_PID = "". 1: still running (cleanup will kill it).
daemon_term() {
  local secs=${1:-10}
  kill -TERM "$DAEMON_PID" 2>/dev/null || true
  wait_for "$secs" pid_gone "$DAEMON_PID" || return 1
  daemon_reap
}

# --- the control socket --------------------------------------------------------------------------
# ctl ARGS...: vsgatectl on this run's socket; bounded, so a stuck daemon fails a check instead of
# hanging the test until ctest's timeout.
ctl() { timeout 10 "$VSGATECTL" --socket "$SOCK" "$@"; }

# req JSON: one raw request line on the control socket (docs/CONTROL_PROTOCOL.md), prints the
# reply line. For commands vsgatectl has no word for (debug.*, lb.* with exact arguments).
req() {
  python3 - "$SOCK" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
buf = b""
while not buf.endswith(b"\n"):
    chunk = s.recv(1 << 20)
    if not chunk:
        break
    buf += chunk
print(buf.decode().strip())
PY
}

# json EXPR: evaluates a Python expression over d = the JSON document on stdin; a control reply
# ({"ok":..,"result":..}, from req or vsgatectl --json) is replaced by its result, and a failed
# one makes json fail. Lists and dicts are printed as JSON.
json() {
  python3 -c '
import json, sys
d = json.load(sys.stdin)
if isinstance(d, dict) and "ok" in d:
    if not d["ok"]:
        sys.exit("request failed: %s" % d.get("error"))
    d = d.get("result")
v = eval(sys.argv[1].strip().replace("\n", " "))
print(json.dumps(v) if isinstance(v, (dict, list)) else v)
' "$1"
}

# lb CMD ARGS_JSON_BODY: a request that must succeed, e.g. lb lb.real.add "$(svc tcp VIP 80),..."
# On error prints "CMD {ARGS}: reply" and returns 1.
lb() {
  local reply
  reply=$(req "{\"cmd\":\"$1\",\"args\":{$2}}" 2>&1) || true
  if [[ "$reply" != '{"ok":true'* ]]; then
    echo "$1 {$2}: ${reply:-no reply}"
    return 1
  fi
}

svc() { printf '"proto":"%s","vip":"%s","port":%s' "$1" "$2" "$3"; }  # svc PROTO VIP PORT

# --- SNMP: a private snmpd and the vsgate-snmp subagent --------------------------------------------
free_udp_port() {
  python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# snmpd_prepare COMMUNITY SUBTREE...: configuration of a private snmpd in TMP: AgentX master on
# AGENTX (a socket in TMP, so nothing of the system's snmpd is touched), v2c read-only COMMUNITY
# from 127.0.0.1 limited to the SUBTREEs, on SNMP_PORT (a free UDP port on 127.0.0.1).
snmpd_prepare() {
  local community=$1 oid
  shift
  SNMP_PORT=$(free_udp_port)
  AGENTX=$TMP/agentx/master
  SNMPD_LOG=$TMP/snmpd.log
  mkdir -p "$TMP/agentx" "$TMP/snmpd-state"
  {
    echo "master agentx"
    echo "agentXSocket $AGENTX"
    echo "agentXTimeout 5"
    echo "dontLogTCPWrappersConnects yes"
    for oid in "$@"; do echo "view vsgview included $oid"; done
    echo "rocommunity $community 127.0.0.1 -V vsgview"
  } >"$TMP/snmpd.conf"
}

# snmpd_start: snmpd in the foreground (so SNMPD_PID is snmpd itself), only the AgentX master
# (-I -smux), no MIB files of its own (-m ""), log appended to SNMPD_LOG.
snmpd_start() {
  snmpd -f -Lo -C -c "$TMP/snmpd.conf" -m "" -I -smux --persistentDir="$TMP/snmpd-state" \
    -p "$TMP/snmpd.pid" "udp:127.0.0.1:$SNMP_PORT" >>"$SNMPD_LOG" 2>&1 &
  SNMPD_PID=$!
  track "$SNMPD_PID"
  E2E_LOGS+=("$SNMPD_LOG")
}

# subagent_start [OPTIONS...]: vsgate-snmp between AGENTX and SOCK, log appended to SUB_LOG.
# shellcheck disable=SC2120 # the arguments are optional
subagent_start() {
  SUB_LOG=$TMP/vsgate-snmp.log
  "$VSGATE_SNMP" --agentx-socket "$AGENTX" --control-socket "$SOCK" "$@" >>"$SUB_LOG" 2>&1 &
  SUB_PID=$!
  track "$SUB_PID"
  E2E_LOGS+=("$SUB_LOG")
}

# --- cleanup -------------------------------------------------------------------------------------
# The EXIT trap: stops what this script started (newest first, by PID), removes the lab (lab.sh
# down removes everything named after LAB_PREFIX: namespaces, leftover veths, run directories),
# prints the logs' tails if a check failed, removes TMP and exits with the script's status.
e2e_cleanup() {
  local rc=$?
  set +e
  trap - EXIT
  trap '' INT TERM  # a second Ctrl-C must not leave half of it undone
  exec 1>&"$E2E_STDOUT" 2>&"$E2E_STDERR"
  local i pid pids=("${E2E_PIDS[@]}")
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    pid=${pids[i]}
    if [[ "$pid" == "$DAEMON_PID" ]] && is_running "$pid"; then
      echo "$E2E_NAME: cleanup: stopping vsgated (pid $pid)"
      stop_pid "$pid" 10
    else
      stop_pid "$pid"
    fi
  done
  if ((E2E_LAB_UP)); then
    echo "$E2E_NAME: cleanup: removing the lab $LAB_PREFIX"
    "$LAB" down >/dev/null 2>&1
  fi
  if ((FAILED > 0 || rc == 1)); then
    local f seen=" "
    for f in "${E2E_LOGS[@]}"; do
      [[ -s "$f" && "$seen" != *" $f "* ]] || continue
      seen+="$f "
      echo "---- $(basename "$f") (last 60 lines) ----"
      tail -n 60 "$f"
    done
    ((${#E2E_LOGS[@]} == 0)) || echo "-------------------------------------"
  fi
  [[ -z "$TMP" ]] || rm -rf -- "$TMP"
  if ((rc != 0 && rc != 77)); then echo "$E2E_NAME: FAILED (exit $rc)" >&2; fi
  exit "$rc"
}

#!/bin/bash
# The bash completions (share/bash-completion/completions/leakwatchd and
# leakwatchctl) with Debian's bash-completion helpers: each case is a
# command line as typed up to <TAB>, split into words as readline splits
# them (at spaces and at '='), handed to the completion function as bash
# would (COMP_WORDS, COMP_CWORD, COMP_LINE, COMP_POINT); the COMPREPLY must
# be exactly the expected words.  `history PID` is completed from a
# leakwatchctl stub that prints a status --json answer, from one that
# fails (then every pid), and, with a daemon, from a real leakwatchd's
# status.  Run from the repository root:
#   bash tests/completion_test.sh [build/leakwatchd build/leakwatchctl]
# Ends with `completion: N passed, M failed`; exit status 1 on a failure.
set -u

daemon=${1:-}
ctl=${2:-}
helpers=/usr/share/bash-completion/bash_completion
if [ ! -r "$helpers" ]; then
	echo "completion: FAIL: no $helpers (Debian: apt-get install bash-completion)"
	echo "completion: 0 passed, 1 failed"
	exit 1
fi
# shellcheck disable=SC1090
. "$helpers"
. share/bash-completion/completions/leakwatchd
. share/bash-completion/completions/leakwatchctl

tmp=$(mktemp -d "${TMPDIR:-/tmp}/leakwatch-completion.XXXXXX") || exit 1
dpid=
sleeper=
cleanup() {
	[ -n "$dpid" ] && kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
	[ -n "$sleeper" ] && kill "$sleeper" 2>/dev/null && wait "$sleeper" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pass=0
fail=0

# complete LINE: COMPREPLY for LINE (up to the cursor at its end), sorted,
# one a line, into $got; nospace says whether compopt asked for no space.
complete_line() {
	local line=$1 word="" c i func
	COMP_WORDS=()
	for ((i = 0; i < ${#line}; i++)); do
		c=${line:i:1}
		if [[ $c == " " ]]; then
			[[ -n $word ]] && COMP_WORDS+=("$word")
			word=""
		elif [[ $c == "=" ]]; then
			[[ -n $word ]] && COMP_WORDS+=("$word")
			COMP_WORDS+=("=")
			word=""
		else
			word+=$c
		fi
	done
	COMP_WORDS+=("$word")   # the word completed, empty after a space or '='
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE=$line
	COMP_POINT=${#line}
	COMPREPLY=()
	case ${COMP_WORDS[0]} in
	*leakwatchd) func=_leakwatchd ;;
	*) func=_leakwatchctl ;;
	esac
	# compopt works only inside a real completion; record what it was asked
	nospace=no
	compopt() { [[ $* == *"-o nospace"* ]] && nospace=yes; return 0; }
	"$func" "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
	unset -f compopt
	got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ')
	got=${got% }
}

# check LINE EXPECTED: the completion of LINE is EXPECTED (words, sorted,
# space-separated).
check() {
	complete_line "$1"
	if [[ $got == "$2" ]]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "completion: FAIL: '$1<TAB>' gives '$got', not '$2'"
	fi
}

mkdir "$tmp/conf.d"
: >"$tmp/conf.yaml"
: >"$tmp/other.txt"

# leakwatchd
check "leakwatchd --lo" "--log-target="
[[ $nospace == yes ]] || { fail=$((fail + 1)); echo "completion: FAIL: --log-target= is followed by a space"; }
check "leakwatchd --log-target=" "auto console journal json"
check "leakwatchd --log-target=j" "journal json"
check "leakwatchd --log-target j" "journal json"
check "leakwatchd --dr" "--dry-run"
check "leakwatchd --c" "--check-config --config"
check "leakwatchd -" "--check-config --config --dry-run --help --log-target= --version -V -c -h -t"
check "leakwatchd -c $tmp/con" "$tmp/conf.d $tmp/conf.yaml"
check "leakwatchd --config $tmp/o" "$tmp/other.txt"
check "leakwatchd --config=$tmp/o" "$tmp/other.txt"
check "leakwatchd -t $tmp/conf.y" "$tmp/conf.yaml"
check "leakwatchd -t --s" "--show-matches"
check "leakwatchd --check-config --show-matches --j" "--json"
check "leakwatchd -t --show-matches $tmp/conf.y" "$tmp/conf.yaml"
check "leakwatchd --s" ""
check "leakwatchd -t --j" ""
check "leakwatchd --dry-run " ""
check "leakwatchd --help " ""

# leakwatchctl: commands, options by command, files
check "leakwatchctl st" "status"
check "leakwatchctl " "check-config forget history inspect match plot reload status"
check "leakwatchctl --json " "check-config forget history inspect match plot reload status"
check "leakwatchctl ma" "match"
check "leakwatchctl status --j" "--json"
check "leakwatchctl status -" "--help --json --verdict --version --watch --watches -V -h"
check "leakwatchctl -" "--csv --help --json --max --metric --proc --seconds --verdict --version --watch --watches -V -h -o"
check "leakwatchctl status --verdict " "leak limit ok unreadable warming"
check "leakwatchctl status --verdict l" "leak limit"
check "leakwatchctl status --verdict leak --j" "--json"
check "leakwatchctl history 42 --c" "--csv"
check "leakwatchctl plot 42 --metric " "fds pss rss threads uss"
check "leakwatchctl plot 42 -" "--help --metric --version -V -h -o"
check "leakwatchctl reload -" "--help --version -V -h"
check "leakwatchctl reload " ""
check "leakwatchctl status " ""
check "leakwatchctl inspect 42 --s" "--seconds"
check "leakwatchctl inspect 42 --seconds " ""
check "leakwatchctl check-config -" "--help --version -V -h"
check "leakwatchctl check-config $tmp/conf." "$tmp/conf.d $tmp/conf.yaml"
check "leakwatchctl check-config $tmp/conf.yaml " ""
check "leakwatchctl match $tmp/o" "$tmp/other.txt"
check "leakwatchctl match --json $tmp/conf.y" "$tmp/conf.yaml"
check "leakwatchctl match -" "--help --json --max --proc --version -V -h"
check "leakwatchctl match --max " ""
check "leakwatchctl match --proc $tmp/con" "$tmp/conf.d"
check "leakwatchctl match --proc=$tmp/con" "$tmp/conf.d"
check "leakwatchctl match --max 3 --proc $tmp/conf.d $tmp/conf.y" "$tmp/conf.yaml"
check "leakwatchctl --m" "--max --metric"

# history/inspect PID: the watched pids from a daemon's status --json
cat >"$tmp/leakwatchctl" <<'STUB'
#!/bin/sh
[ "$1 $2" = "status --json" ] || exit 2
cat <<'JSON'
[{"watch": "api", "pid": 4242, "comm": "python3", "title": null, "started": "2026-11-24T07:46:31.173Z",
  "rss": {"value": 1, "slope_per_hour": 0, "eta_seconds": null, "verdict": "ok"},
  "fds": {"value": 1, "slope_per_hour": 0, "eta_seconds": null, "verdict": "ok"},
  "threads": {"value": 1, "slope_per_hour": 0, "eta_seconds": null, "verdict": "ok"}},
 {"watch": "api", "pid": 4250, "comm": "python3", "title": null, "started": "2026-11-24T07:46:31.173Z",
  "rss": {"value": 1, "slope_per_hour": 0, "eta_seconds": null, "verdict": "ok"},
  "fds": {"value": 1, "slope_per_hour": 0, "eta_seconds": null, "verdict": "ok"},
  "threads": {"value": 1, "slope_per_hour": 0, "eta_seconds": null, "verdict": "ok"}},
 {"watch": "db", "pid": 977, "comm": "python3", "title": null, "started": "2026-11-24T07:46:31.173Z",
  "rss": {"value": 1, "slope_per_hour": 0, "eta_seconds": null, "verdict": "ok"},
  "fds": {"value": null, "slope_per_hour": null, "eta_seconds": null, "verdict": "unreadable"},
  "threads": {"value": 1, "slope_per_hour": 0, "eta_seconds": null, "verdict": "ok"}}]
JSON
STUB
chmod +x "$tmp/leakwatchctl"
check "$tmp/leakwatchctl history " "4242 4250 977"
check "$tmp/leakwatchctl history 42" "4242 4250"
check "$tmp/leakwatchctl inspect --seconds 5 9" "977"
check "$tmp/leakwatchctl history 4242 " ""
check "$tmp/leakwatchctl history 4242 --" "--csv --help --json --version"
check "$tmp/leakwatchctl forget 42" "4242 4250"
check "$tmp/leakwatchctl plot 9" "977"

# no daemon answers: every pid
mkdir "$tmp/down"
printf '#!/bin/sh\necho "leakwatchctl: leakwatchd is not running" >&2\nexit 1\n' >"$tmp/down/leakwatchctl"
chmod +x "$tmp/down/leakwatchctl"
complete_line "$tmp/down/leakwatchctl history $$"
if [[ " $got " == *" $$ "* ]]; then
	pass=$((pass + 1))
else
	fail=$((fail + 1))
	echo "completion: FAIL: with no daemon, 'history $$<TAB>' gives '$got', not this shell's pid among others"
fi

# a real daemon: exactly the pid it watches
if [ -n "$daemon" ] && [ -n "$ctl" ]; then
	marker="lwcompletion$$"
	mkdir "$tmp/run" "$tmp/state"
	printf 'interval: 100ms\nwatches:\n  - name: completion\n    match: { cmdline: "%s" }\n' "$marker" >"$tmp/live.yaml"
	bash -c "exec -a 'sleep-$marker' sleep 60" &
	sleeper=$!
	RUNTIME_DIRECTORY=$tmp/run STATE_DIRECTORY=$tmp/state \
		"$daemon" -c "$tmp/live.yaml" --log-target=json >"$tmp/events" 2>"$tmp/err" </dev/null &
	dpid=$!
	export RUNTIME_DIRECTORY=$tmp/run
	i=0
	until grep -q "\"event\":\"found\",\"watch\":\"completion\",\"pid\":$sleeper," "$tmp/events"; do
		i=$((i + 1))
		if [ "$i" -gt 100 ] || ! kill -0 "$dpid" 2>/dev/null; then
			echo "completion: FAIL: the daemon did not find pid $sleeper: $(tail -3 "$tmp/err")"
			fail=$((fail + 1))
			break
		fi
		sleep 0.1
	done
	check "$ctl history " "$sleeper"
	check "$ctl inspect " "$sleeper"
	unset RUNTIME_DIRECTORY
fi

echo "completion: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

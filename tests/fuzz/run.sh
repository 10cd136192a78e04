#!/bin/sh
# make fuzz: each libFuzzer target for FUZZ_SECONDS (default 300), seeded
# from tests/fuzz/corpus/TARGET.  New inputs go to build/fuzz/corpus/TARGET,
# findings to build/fuzz/artifacts/ (keep a crasher as a regression seed
# in tests/fuzz/corpus/TARGET once it is fixed).  Prints exec/s and
# coverage per target; fails if any target found something.
set -eu
seconds=${FUZZ_SECONDS:-300}
targets=${FUZZ_TARGETS:-"stat text config state regex inspect elf maps"}
out=build/fuzz
status=0
for t in $targets; do
	mkdir -p "$out/corpus/$t" "$out/artifacts/$t"
	log="$out/$t.log"
	echo "fuzz: $t for $seconds s (log $log)"
	if ! "$out/fuzz_$t" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$out/artifacts/$t/" "$out/corpus/$t" "tests/fuzz/corpus/$t" > "$log" 2>&1; then
		echo "fuzz: $t: FINDING, see $log and $out/artifacts/$t/"
		status=1
	fi
	# the last status line (cov, ft, corp, exec/s), and the totals
	grep -E '^#[0-9]+' "$log" | tail -1 | sed "s/^/fuzz: $t: /"
	grep -E 'stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb' "$log" | sed "s/^/fuzz: $t: /"
done
exit $status

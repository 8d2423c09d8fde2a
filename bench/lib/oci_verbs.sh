# The runtime's own share of `podman run --rm`: each runtime behind a timing wrapper of the
# same file name (so podman passes it the same flags: runtime_supports_json goes by name)
# that notes how long each call conmon and podman make (create, start, state, kill, delete)
# took, with bash's $EPOCHREALTIME (no fork). Rounds are interleaved (one run of each
# runtime in turn), so the machine's load drifts through all of them alike. Sourced by
# bench/lib/case_oci.sh; uses PODMAN, PODMAN_IMAGE, MDB_CG, MDRUN_OCI, RUNS, W.

oci_verbs_wrapper() {
	local name=$1 real=$2 dir=$W/verbs/$1
	mkdir -p "$dir"
	cat >"$dir/$name" <<-SH
		#!/bin/bash
		v=other
		for a in "\$@"; do case \$a in create | start | state | kill | delete) v=\$a; break ;; esac; done
		t0=\$EPOCHREALTIME
		$real "\$@"
		rc=\$?
		echo "\$v \$t0 \$EPOCHREALTIME" >>$W/verbs/$name.log
		exit \$rc
	SH
	chmod 755 "$dir/$name"
}

# One line a round: runtime round create start state kill delete runtime-sum total (ms).
oci_verbs_rounds() {
	local i rt s
	for rt in crun mdrun-oci runc; do : >"$W/verbs/$rt.rounds"; done
	for i in $(seq "$RUNS"); do
		for rt in crun mdrun-oci runc; do
			: >"$W/verbs/$rt.log"
			s=$EPOCHREALTIME
			$PODMAN --runtime "$W/verbs/$rt/$rt" run --rm --network=none --pull=never \
				--cgroup-parent="$MDB_CG/podman" --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
				--memory 100m "$PODMAN_IMAGE" true
			awk -v rt="$rt" -v i="$i" -v s="$s" -v e="$EPOCHREALTIME" '
				{ d[$1] += ($3 - $2) * 1000; sum += ($3 - $2) * 1000 }
				END { printf "%s %d %.2f %.2f %.2f %.2f %.2f %.2f %.2f\n", rt, i, d["create"], d["start"],
					d["state"], d["kill"], d["delete"], sum, (e - s) * 1000 }' "$W/verbs/$rt.log" >>"$W/verbs/$rt.rounds"
		done
	done
}

median_col() { awk -v c="$2" '{ print $c }' "$1" | sort -g | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f", m }'; }

oci_verbs_table() {
	local rt f
	{
		echo
		echo "### The runtime's own time in \`podman run --rm\` ($RUNS interleaved rounds, medians, ms)"
		echo
		echo "| runtime | create | start | state | kill | delete | runtime, all calls | whole \`podman run --rm\` |"
		echo "|---|---:|---:|---:|---:|---:|---:|---:|"
		for rt in crun mdrun-oci runc; do
			f=$W/verbs/$rt.rounds
			echo "| $rt | $(median_col "$f" 3) | $(median_col "$f" 4) | $(median_col "$f" 5) | $(median_col "$f" 6) | $(median_col "$f" 7) | $(median_col "$f" 8) | $(median_col "$f" 9) |"
		done
		echo
		echo "Each call timed from the wrapper's exec of the runtime to its exit (a timing wrapper
of the runtime's own name, so podman passes the same flags); one \`podman run --rm\` of each
runtime in turn per round, so load drifts through all three alike. 0 = not called."
	} | tee -a "$MDBENCH_REPORT"
}

oci_verbs_wrapper crun "$(command -v crun)"
oci_verbs_wrapper mdrun-oci "$MDRUN_OCI"
oci_verbs_wrapper runc "$(command -v runc)"
"$BENCH/lib/idle" oci-verbs
oci_verbs_rounds
oci_verbs_table

# Markdown tables from hyperfine's JSON export, with the idle check beside each case.
# Sourced by bench/run.

# hyperfine_table TITLE JSON REFERENCE IDLE_LABEL [NOTE]
# One row per command in JSON: median, min, max (ms) and median / median(REFERENCE);
# "busy" is what bench/lib/idle saw before that case (its N-th line for IDLE_LABEL).
hyperfine_table() {
	local title=$1 json=$2 ref=$3 label=$4 note=${5:-}
	local busy
	busy=$(awk -F'\t' -v l="$label" '$1==l{print $2 "% (load " $3 ")"}' "$MDBENCH_IDLE_LOG")
	{
		echo
		echo "### $title"
		echo
		echo "| case | median ms | min ms | max ms | runs | ratio to $ref | busy before |"
		echo "|---|---:|---:|---:|---:|---:|---|"
		paste <(jq -r --arg ref "$ref" '
			(.results | map(select(.command == $ref)) | first | .median) as $m0
			| .results[]
			| [.command, (.median * 1000), (.min * 1000), (.max * 1000), (.times | length),
			   (if $m0 then .median / $m0 else null end)]
			| @tsv' "$json") <(printf '%s\n' "$busy") |
			awk -F'\t' '$1 != "" { r = ($6 == "") ? "n/a" : sprintf("%.2f", $6);
				printf "| %s | %.1f | %.1f | %.1f | %d | %s | %s |\n", $1, $2, $3, $4, $5, r, $7 }'
		if [ -n "$note" ]; then echo; echo "$note"; fi
	} | tee -a "$MDBENCH_REPORT"
}

# note TEXT: a line in the report (a skipped row, a method).
note() {
	printf '\n%s\n' "$*" | tee -a "$MDBENCH_REPORT"
}

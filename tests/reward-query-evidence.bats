#!/usr/bin/env bats
# reward-query-evidence.bats - the ordering behind make evidence's
# reward-query row, on a small instance: simple regret of reward-query's
# recommendation when its design chooses the queries, against random
# queries (tests/tools/reward-query-regret: Matérn-5/2 GP draws on a
# 100-point grid in 2-D, lengthscale 0.2, 6 seeds, n = 32 and 64).

load helper

regret() {
	"$LOAM_TOP/tests/tools/reward-query-regret" grid --bin "$LOAM_OUT/bin/reward-query" \
	    --dims 2 --grid 100 --lengthscale 0.1,0.2 --seeds 6 --ns 32,64 --designs "$1"
}

# mean regret of DESIGN at N from the driver's output on stdin
mean_at() { jq -rs --arg d "$1" --argjson n "$2" \
    '.[] | select(.type == "regret" and .design == $d and .n == $n) | .mean'; }

@test "maxvar's queries leave at most 3/4 of random queries' simple regret at n = 32 and 64" {
	run regret maxvar,random
	assert_success
	for n in 32 64; do
		m=$(mean_at maxvar $n <<<"$output") r=$(mean_at random $n <<<"$output")
		echo "n = $n: maxvar $m, random $r"
		jq -en --argjson m "$m" --argjson r "$r" '$r > 0.05 and $m <= 0.75 * $r'
	done
}

@test "gopt's queries leave at most 3/4 of random queries' simple regret at n = 32 and 64" {
	run regret gopt,random
	assert_success
	for n in 32 64; do
		g=$(mean_at gopt $n <<<"$output") r=$(mean_at random $n <<<"$output")
		echo "n = $n: gopt $g, random $r"
		jq -en --argjson g "$g" --argjson r "$r" '$r > 0.05 and $g <= 0.75 * $r'
	done
}

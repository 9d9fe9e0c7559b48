# the evidence MDP: S states, A actions, 3 successors per (s, a) with
# probabilities from a fixed LCG, features uniform in [-1, 1], the last
# one times SCALE
function u() { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648 }
BEGIN {
	seed = 20230101
	printf "{\"type\":\"mdp\",\"states\":%d,\"actions\":%d,\"gamma\":%s,\"transitions\":[", S, A, G
	sep = ""
	for (s = 0; s < S; s++) for (a = 0; a < A; a++) {
		w1 = 0.1 + u(); w2 = 0.1 + u(); w3 = 0.1 + u(); t = w1 + w2 + w3
		n1 = int(u() * S); n2 = int(u() * S); n3 = int(u() * S)
		printf "%s{\"s\":%d,\"a\":%d,\"s2\":%d,\"p\":%.17g}", sep, s, a, n1, w1 / t; sep = ","
		printf ",{\"s\":%d,\"a\":%d,\"s2\":%d,\"p\":%.17g}", s, a, n2, w2 / t
		printf ",{\"s\":%d,\"a\":%d,\"s2\":%d,\"p\":%.17g}", s, a, n3, 1 - w1 / t - w2 / t
	}
	printf "],\"features\":["
	sep = ""
	for (i = 0; i < S * A; i++) {
		printf "%s[%.6f,%.6f,%.6f]", sep, 2 * u() - 1, 2 * u() - 1, (2 * u() - 1) * SCALE; sep = ","
	}
	printf "]}\n"
}

# bow.awk - DBPedia sentences (HazyResearch/embroid's data/
# dbpedia_animal.tsv) to 64-d signed hashed bag-of-words embeddings, the
# simplest "embedding model": tart-fit consumes any vectors.
BEGIN { FS = "\t"; for (i = 1; i < 256; i++) ord[sprintf("%c", i)] = i; D = 64 }
NR == 1 { next }
{
	t = tolower($3); gsub(/[^a-z0-9]+/, " ", t); n = split(t, w, " ")
	for (j = 0; j < D; j++) v[j] = 0
	for (i = 1; i <= n; i++) {
		h = 7
		for (c = 1; c <= length(w[i]); c++) h = (h * 31 + ord[substr(w[i], c, 1)]) % 2147483647
		v[h % D] += (int(h / D) % 2) ? 1 : -1
	}
	s = 0; for (j = 0; j < D; j++) s += v[j] * v[j]
	s = s > 0 ? sqrt(s) : 1
	out = sprintf("{\"id\":%d,\"label\":%d,\"embedding\":[", $1, $2)
	for (j = 0; j < D; j++) out = out sprintf("%s%.4f", j ? "," : "", v[j] / s)
	print out "]}"
}

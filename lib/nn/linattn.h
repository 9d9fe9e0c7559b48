/*
 * linattn - attention kernels for one head over flat float arrays:
 * causal linear attention (chunked forward and backward, the recurrent
 * form for decoding, a quadratic reference) and softmax attention (row
 * blocked, with a reference).  hedgehog-train runs them; see
 * research/hedgehog.md §4 for the algorithms.
 *
 * Linear attention over features (phi already applied, every entry >= 0):
 *
 *	y_i = (sum_{j<=i} (fq_i . fk_j) v_j) / (sum_{j<=i} fq_i . fk_j + eps)
 *
 * The chunked form (Yang et al.'s chunkwise parallel form; fla's
 * chunk_linear_attn) splits the sequence into chunks of C rows; within a
 * chunk the product is the masked C x C matrix, across chunks the state
 * S = sum_j fk_j [v_j, 1]^T (f x (dv+1)) carries the past, so every step
 * is a small GEMM and the work grows linearly with n.  The normaliser is
 * the extra column of ones.
 *
 * Shapes in comments are row-major: fq, fk [n, f], v [n, dv], y [n, dv].
 * Backward functions accumulate (+=) into their gradient outputs.
 */
#ifndef LOAM_LINATTN_H
#define LOAM_LINATTN_H

#ifdef __cplusplus
extern "C" {
#endif

/* Added to every normaliser, so that maps that can give 0 (ReLU) do not
 * divide by zero; LoLCATs adds the same. */
#define LINATTN_EPS	1e-12f
/* Default chunk length (fla's). */
#define LINATTN_CHUNK	64

/*
 * Chunked causal linear attention.  y [n, dv]; den [n] receives the
 * normalisers (kept for the backward pass), or NULL.
 */
void linattn_forward(float *y, float *den, const float *fq, const float *fk,
    const float *v, int n, int f, int dv, int chunk);
/*
 * Its backward pass: from dy [n, dv] and the forward's y and den,
 * dfq [n, f] += , dfk [n, f] += , dv_ [n, dv] += (any may be NULL).
 */
void linattn_backward(float *dfq, float *dfk, float *dv_, const float *dy,
    const float *y, const float *den, const float *fq, const float *fk,
    const float *v, int n, int f, int dv, int chunk);

/* The quadratic form in double: the references the tests compare with. */
void linattn_reference_forward(float *y, const float *fq, const float *fk,
    const float *v, int n, int f, int dv);
void linattn_reference_backward(float *dfq, float *dfk, float *dv_,
    const float *dy, const float *fq, const float *fk, const float *v, int n,
    int f, int dv);

/*
 * The recurrent form: one token at a time with a constant-size state,
 * S [f, dv] and z [f], for decoding.  After t steps the outputs equal
 * rows 0..t-1 of linattn_forward().
 */
struct linattn_state {
	int f, dv;
	float *S;	/* sum fk_j v_j^T */
	float *z;	/* sum fk_j */
};
void linattn_state_init(struct linattn_state *st, int f, int dv);
void linattn_state_release(struct linattn_state *st);
/* Add token (fk, v) to the state, then y [dv] = the output for fq. */
void linattn_step(struct linattn_state *st, float *y, const float *fq,
    const float *fk, const float *v);

/*
 * Softmax attention, y_i = sum_j softmax_j(scale q_i . k_j) v_j over
 * j <= i (causal) or all j, computed in blocks of `block` query rows
 * (O(block n) memory).  q, k [n, d], v [n, dv], y [n, dv].
 */
void linattn_softmax_forward(float *y, const float *q, const float *k,
    const float *v, int n, int d, int dv, float scale, int causal, int block);
void linattn_softmax_reference(float *y, const float *q, const float *k,
    const float *v, int n, int d, int dv, float scale, int causal);

#ifdef __cplusplus
}
#endif

#endif

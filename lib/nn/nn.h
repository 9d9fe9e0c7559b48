/*
 * nn - small neural-network kernels in plain C over flat float arrays, in
 * the manner of llm.c: each layer is a forward/backward pair, shapes are
 * given in the comment, backward passes ACCUMULATE into their gradient
 * outputs (+=), so the caller zeroes gradients once per step.  Matrix
 * products go through cblas_sgemm (OpenBLAS); element-wise loops are
 * split over OpenMP threads.
 *
 * Each fast kernel has a plain reference beside it (nn_ref_*): loops a
 * reader can check against the equations, used by tests/unit/nn_test.c to
 * check the fast paths and, through finite differences, the gradients.
 *
 * Used by tart-fit (lib/nn/gpt.c, lib/method/tart.c) and, for nn_gemm,
 * nn_softmax_row and nn_adamw_update, by hedgehog-train (lib/nn/linattn.c,
 * lib/method/hedgehog.c).
 */
#ifndef LOAM_NN_H
#define LOAM_NN_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Row-major GEMM through cblas_sgemm: C[m,n] = alpha op(A) op(B) + beta C,
 * op(X) = X^T when ta (tb) is set; lda, ldb, ldc as cblas's. */
void nn_gemm(int ta, int tb, int m, int n, int k, float alpha, const float *A,
    int lda, const float *B, int ldb, float beta, float *C, int ldc);

/* x[len] = softmax(x) in place, the maximum subtracted first; expf, so
 * every caller's rows come out alike (attention here, softmax attention
 * in linattn, the teacher in hedgehog). */
void nn_softmax_row(float *x, int len);

/* How a linear layer's weight is stored.  PyTorch's nn.Linear keeps
 * (out, in); Hugging Face's GPT-2 Conv1D keeps (in, out).  Checkpoints
 * must match the reference layouts, so both are first-class. */
enum nn_layout {
	NN_OUT_IN,	/* weight[OC][C]: y = x W^T + b (nn.Linear) */
	NN_IN_OUT	/* weight[C][OC]: y = x W + b (Conv1D) */
};

/* out[N,OC] = inp[N,C] W + bias[OC]; bias may be NULL. */
void nn_linear_forward(float *out, const float *inp, const float *weight,
    const float *bias, size_t N, size_t C, size_t OC, int layout);
/* dinp[N,C] += dout W^T, dweight += inp^T dout (in the weight's layout),
 * dbias[OC] += column sums of dout.  dinp, dbias may be NULL. */
void nn_linear_backward(float *dinp, float *dweight, float *dbias,
    const float *dout, const float *inp, const float *weight,
    size_t N, size_t C, size_t OC, int layout);

/* out[N,C] = (inp - mean) * rstd * w + b per row; mean, rstd [N] saved
 * for the backward pass.  eps = 1e-5 (GPT-2's). */
void nn_layernorm_forward(float *out, float *mean, float *rstd,
    const float *inp, const float *w, const float *b, size_t N, size_t C);
void nn_layernorm_backward(float *dinp, float *dw, float *db,
    const float *dout, const float *inp, const float *w,
    const float *mean, const float *rstd, size_t N, size_t C);

/* GELU, tanh approximation (GPT-2's "gelu_new"), element-wise over n. */
void nn_gelu_forward(float *out, const float *inp, size_t n);
void nn_gelu_backward(float *dinp, const float *inp, const float *dout, size_t n);

/*
 * Causal multi-head self-attention.
 *	qkv [B,T,3C]: per token the query, key and value, each C = NH*hs wide
 *	out [B,T,C]:  the heads' outputs side by side
 *	att [B,NH,T,T]: the softmax weights (row t is zero past column t),
 *	saved for the backward pass
 * Scale 1/sqrt(hs).  The backward pass accumulates into dqkv [B,T,3C].
 */
void nn_attention_forward(float *out, float *att, const float *qkv,
    size_t B, size_t T, size_t C, size_t NH);
void nn_attention_backward(float *dqkv, const float *dout, const float *qkv,
    const float *att, size_t B, size_t T, size_t C, size_t NH);

/* out[n] = a[n] + b[n] (its backward is dout into both: no kernel). */
void nn_residual_forward(float *out, const float *a, const float *b, size_t n);

/*
 * Binary cross-entropy on logits z[i] with targets y[i] in {0, 1}, over
 * the n positions whose mask[i] is non-zero (mask NULL: all).  Returns
 * the mean loss; the backward pass adds (sigmoid(z) - y) / count to dz.
 * Written as softplus(z) - y z so that large |z| cannot overflow.
 */
double nn_bce_forward(const float *z, const float *y, const unsigned char *mask,
    size_t n);
void nn_bce_backward(float *dz, const float *z, const float *y,
    const unsigned char *mask, size_t n);

/* Softmax cross-entropy: logits [N,V], targets [N] in [0, V).  Returns the
 * mean loss; backward adds (softmax - onehot) / N to dlogits. */
double nn_softmax_ce_forward(const float *logits, const int *targets,
    size_t N, size_t V);
void nn_softmax_ce_backward(float *dlogits, const float *logits,
    const int *targets, size_t N, size_t V);

/*
 * AdamW (Loshchilov and Hutter), with bias correction; weight_decay 0 is
 * plain Adam, which is what TART trains with.  m and v hold n floats each,
 * zero at step 0; t counts steps from 1.
 */
struct nn_adamw {
	float lr, beta1, beta2, eps, weight_decay;
};
void nn_adamw_update(const struct nn_adamw *opt, float *params,
    const float *grads, float *m, float *v, size_t n, long t);

/* Plain references of the kernels above, same contracts. */
void nn_ref_linear_forward(float *out, const float *inp, const float *weight,
    const float *bias, size_t N, size_t C, size_t OC, int layout);
void nn_ref_linear_backward(float *dinp, float *dweight, float *dbias,
    const float *dout, const float *inp, const float *weight,
    size_t N, size_t C, size_t OC, int layout);
void nn_ref_attention_forward(float *out, float *att, const float *qkv,
    size_t B, size_t T, size_t C, size_t NH);
void nn_ref_attention_backward(float *dqkv, const float *dout,
    const float *qkv, const float *att, size_t B, size_t T, size_t C,
    size_t NH);

#ifdef __cplusplus
}
#endif

#endif

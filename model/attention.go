package model

import "math"

// attention sets o (ch, n) to multi-head softmax attention over qkv
// (3ch, n), whose channels [0, ch) are q, [ch, 2ch) k and [2ch, 3ch) v.
// Head h uses channels [h·d, (h+1)·d) of each, d = ch/heads:
//
//	A[i, j] = softmax_j(Σ_c q[c, i]·k[c, j] / √d),  o[c, i] = Σ_j A[i, j]·v[c, j]
//
// probs (heads, n, n) receives A for attentionVJP: row i of head h at
// offset (h·n + i)·n.
func attention(o, probs, qkv []float32, ch, n, heads int) {
	d := ch / heads
	scale := 1 / math.Sqrt(float64(d))
	q, k, v := qkv[:ch*n], qkv[ch*n:2*ch*n], qkv[2*ch*n:3*ch*n]
	parallelFor(heads*n, func(hi int) {
		h, i := hi/n, hi%n
		a := probs[hi*n : (hi+1)*n]
		clear(a)
		for c := h * d; c < (h+1)*d; c++ {
			qc := q[c*n+i]
			for j, kv := range k[c*n : (c+1)*n] {
				a[j] += qc * kv
			}
		}
		softmax(a, scale)
		for c := h * d; c < (h+1)*d; c++ {
			var s float32
			for j, vv := range v[c*n : (c+1)*n] {
				s += a[j] * vv
			}
			o[c*n+i] = s
		}
	})
}

// softmax sets a to softmax(scale·a), subtracting the maximum first so that
// no exponential overflows; exponentials and their sum are float64.
func softmax(a []float32, scale float64) {
	mx := a[0]
	for _, v := range a {
		mx = max(mx, v)
	}
	var sum float64
	for j, v := range a {
		e := math.Exp(scale * float64(v-mx))
		a[j] = float32(e)
		sum += e
	}
	inv := float32(1 / sum)
	for j := range a {
		a[j] *= inv
	}
}

// attentionVJP sets dqkv (3ch, n) to the gradient of attention's input
// given do (ch, n), the gradient of its output, using qkv and the probs
// attention saved; ds (heads, n, n) is scratch. Per head, with
// dA[i, j] = Σ_c do[c, i]·v[c, j] and the softmax backward
// dS[i, j] = A[i, j]·(dA[i, j] − Σ_j′ A[i, j′]·dA[i, j′]) / √d,
//
//	dq[c, i] = Σ_j dS[i, j]·k[c, j]
//	dk[c, j] = Σ_i dS[i, j]·q[c, i]
//	dv[c, j] = Σ_i A[i, j]·do[c, i]
func attentionVJP(dqkv, do, qkv, probs, ds []float32, ch, n, heads int) {
	d := ch / heads
	scale := float32(1 / math.Sqrt(float64(d)))
	q, k, v := qkv[:ch*n], qkv[ch*n:2*ch*n], qkv[2*ch*n:3*ch*n]
	dq, dk, dv := dqkv[:ch*n], dqkv[ch*n:2*ch*n], dqkv[2*ch*n:3*ch*n]
	// Rows of dS and columns of dq: each (head, query i) is independent.
	parallelFor(heads*n, func(hi int) {
		h, i := hi/n, hi%n
		a, g := probs[hi*n:(hi+1)*n], ds[hi*n:(hi+1)*n]
		clear(g)
		for c := h * d; c < (h+1)*d; c++ {
			doc := do[c*n+i]
			for j, vv := range v[c*n : (c+1)*n] {
				g[j] += doc * vv
			}
		}
		var dot float64
		for j, av := range a {
			dot += float64(av * g[j])
		}
		for j, av := range a {
			g[j] = av * (g[j] - float32(dot)) * scale
		}
		for c := h * d; c < (h+1)*d; c++ {
			var s float32
			for j, kv := range k[c*n : (c+1)*n] {
				s += g[j] * kv
			}
			dq[c*n+i] = s
		}
	})
	// dk and dv sum over queries: each channel's row is independent.
	parallelFor(ch, func(c int) {
		h := c / d
		dkc, dvc := dk[c*n:(c+1)*n], dv[c*n:(c+1)*n]
		clear(dkc)
		clear(dvc)
		for i := range n {
			qc, doc := q[c*n+i], do[c*n+i]
			a, g := probs[(h*n+i)*n:(h*n+i+1)*n], ds[(h*n+i)*n:(h*n+i+1)*n]
			for j := range n {
				dkc[j] += g[j] * qc
				dvc[j] += a[j] * doc
			}
		}
	})
}

package gpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// testConv returns random int8 conv weights of cout×cin×k×k on the device
// and their dequantized float64 values (q·scale rounded to float32, as the
// model package dequantizes) with the bias.
func testConv(t testing.TB, d *Device, cin, cout, k int) (*convWeights, []float64, []float64) {
	t.Helper()
	r := rand.New(rand.NewPCG(uint64(cin*1000+cout), uint64(k)))
	q := make([]int8, cout*cin*k*k)
	for i := range q {
		q[i] = int8(r.IntN(255) - 127)
	}
	scale := make([]float32, cout)
	bias := make([]float32, cout)
	for o := range scale {
		scale[o] = float32(0.5+r.Float64()) / 127 / float32(math.Sqrt(float64(cin*k*k)))
		bias[o] = float32(r.NormFloat64())
	}
	c, err := uploadConv(d, q, scale, bias, cin, cout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.destroy)
	w := make([]float64, len(q))
	n := len(q) / cout
	for i, v := range q {
		w[i] = float64(float32(v) * scale[i/n])
	}
	b := make([]float64, cout)
	for o, v := range bias {
		b[o] = float64(v)
	}
	return c, w, b
}

// conv3x3Links calls f(out, in, k) for every product of conv3x3_fwd over
// the h×w input, read through its nearest ×2 upsampling if up: output
// element out gathers weight element k times input element in. Taps on
// the zero padding are skipped.
func conv3x3Links(cin, h, wd, cout, s int, up bool, f func(out, in, k int)) {
	u := 0
	if up {
		u = 1
	}
	hu, wu := h<<u, wd<<u
	ho, wo := (hu-1)/s+1, (wu-1)/s+1
	for o := range cout {
		for y := range ho {
			for xx := range wo {
				for c := range cin {
					for ky := range 3 {
						iy := s*y + ky - 1
						for kx := range 3 {
							ix := s*xx + kx - 1
							if iy >= 0 && iy < hu && ix >= 0 && ix < wu {
								f((o*ho+y)*wo+xx, (c*h+iy>>u)*wd+ix>>u, (o*cin+c)*9+ky*3+kx)
							}
						}
					}
				}
			}
		}
	}
}

// conv3x3Ref is the float64 twin of conv3x3_fwd; res may be nil.
func conv3x3Ref(dst, x, w, b, res []float64, cin, h, wd, cout, s int, up bool) {
	n := len(dst) / cout
	for i := range dst {
		dst[i] = b[i/n]
		if res != nil {
			dst[i] += res[i]
		}
	}
	conv3x3Links(cin, h, wd, cout, s, up, func(out, in, k int) { dst[out] += w[k] * x[in] })
}

// conv3x3VJPRef scatters dy back along the products conv3x3Ref gathers.
func conv3x3VJPRef(dx, dy, w []float64, cin, h, wd, cout, s int, up bool) {
	clear(dx)
	conv3x3Links(cin, h, wd, cout, s, up, func(out, in, k int) { dx[in] += w[k] * dy[out] })
}

// perSample applies ref, a reference on one sample's channel-major [C][n]
// arrays, to every sample of a batch of channel-major [C][batch][n]
// arrays: dst has cd channels, in[i] has cs[i].
func perSample(batch int, dst []float64, cd int, in [][]float64, cs []int, ref func(dst []float64, in [][]float64)) {
	for s := range batch {
		one := make([][]float64, len(in))
		for i, x := range in {
			one[i] = sampleOf(x, cs[i], batch, s)
		}
		d := sampleOf(dst, cd, batch, s)
		ref(d, one)
		n := len(d) / cd
		for ch := range cd {
			copy(dst[(ch*batch+s)*n:(ch*batch+s+1)*n], d[ch*n:(ch+1)*n])
		}
	}
}

// sampleOf returns a copy of sample s of the [c][batch][n] array x, as [c][n].
func sampleOf(x []float64, c, batch, s int) []float64 {
	n := len(x) / (c * batch)
	y := make([]float64, c*n)
	for ch := range c {
		copy(y[ch*n:(ch+1)*n], x[(ch*batch+s)*n:(ch*batch+s+1)*n])
	}
	return y
}

func TestConv3x3(t *testing.T) {
	b := testBackend(t, nil)
	var cases []kcase
	for _, g := range []struct {
		cin, cout, h, w, s int
		up                 bool
		batch              int // 0: one sample
	}{
		{1, 1, 1, 1, 1, false, 0}, {3, 5, 7, 5, 1, false, 0}, {5, 3, 7, 6, 2, false, 0}, {4, 6, 5, 7, 2, false, 0},
		{3, 5, 1, 1, 2, false, 0}, {2, 3, 2, 2, 2, false, 0}, {3, 7, 3, 5, 1, true, 0}, {6, 2, 4, 4, 1, true, 0}, {1, 1, 1, 1, 1, true, 0},
		// The register blocks of conv.wgsl (8 channels × 4 columns, 64
		// invocations a workgroup): channel counts around multiples of 8,
		// rows around multiples of 4 and more pixels than one workgroup.
		{9, 17, 17, 19, 1, false, 0}, {17, 9, 17, 19, 1, false, 0}, {8, 16, 8, 8, 1, false, 0}, {16, 8, 9, 4, 2, false, 0},
		{7, 9, 19, 17, 2, false, 0}, {9, 8, 11, 13, 1, true, 0}, {8, 9, 8, 8, 1, true, 0}, {17, 3, 3, 9, 2, false, 0},
		// Rows a multiple of 4 wide: one pixel group per row, several, and
		// more than a workgroup.
		{5, 19, 7, 4, 1, false, 0}, {1, 1, 1, 4, 1, false, 0}, {9, 17, 17, 12, 1, false, 0}, {17, 33, 5, 16, 1, false, 0},
		{3, 16, 33, 20, 1, false, 0},
		// Batches: samples side by side, each convolved on its own (a
		// border row must not read the next sample's first row).
		{3, 5, 7, 5, 1, false, 3}, {5, 3, 7, 6, 2, false, 2}, {3, 7, 3, 5, 1, true, 3}, {9, 17, 17, 19, 1, false, 2},
		{7, 9, 19, 17, 2, false, 3}, {6, 2, 4, 4, 1, true, 5}, {1, 1, 1, 1, 1, false, 4}, {9, 17, 17, 12, 1, false, 3},
	} {
		c, w, bias := testConv(t, b.d, g.cin, g.cout, 3)
		hu, wu := g.h, g.w
		if g.up {
			hu, wu = 2*g.h, 2*g.w
		}
		B := max(g.batch, 1)
		nin, nout := B*g.cin*g.h*g.w, B*g.cout*((hu-1)/g.s+1)*((wu-1)/g.s+1)
		vars := fmt.Sprintf("cin=%d,cout=%d,h=%d,w=%d,s=%d,up=%v,batch=%d", g.cin, g.cout, g.h, g.w, g.s, g.up, B)
		cases = append(cases,
			kcase{
				name: "conv3x3_fwd/" + vars, ins: []int{nin}, out: nout, alias: -1, tol: 1e-5,
				gpu: func(b *Backend, dst *Buffer, in []*Buffer) {
					must(b.d.conv3x3(c, dst, in[0], nil, B, g.h, g.w, g.s, g.up))
				},
				ref: func(dst []float64, in [][]float64) {
					perSample(B, dst, g.cout, in, []int{g.cin}, func(dst []float64, in [][]float64) {
						conv3x3Ref(dst, in[0], w, bias, nil, g.cin, g.h, g.w, g.cout, g.s, g.up)
					})
				},
			},
			kcase{
				name: "conv3x3_fwd/res," + vars, ins: []int{nin, nout}, out: nout, alias: -1, tol: 1e-5,
				gpu: func(b *Backend, dst *Buffer, in []*Buffer) {
					must(b.d.conv3x3(c, dst, in[0], in[1], B, g.h, g.w, g.s, g.up))
				},
				ref: func(dst []float64, in [][]float64) {
					perSample(B, dst, g.cout, in, []int{g.cin, g.cout}, func(dst []float64, in [][]float64) {
						conv3x3Ref(dst, in[0], w, bias, in[1], g.cin, g.h, g.w, g.cout, g.s, g.up)
					})
				},
			},
			kcase{
				name: "conv3x3_vjp/" + vars, ins: []int{nout}, out: nin, alias: -1, tol: 1e-5,
				gpu: func(b *Backend, dst *Buffer, in []*Buffer) {
					must(b.d.conv3x3VJP(c, dst, in[0], B, g.h, g.w, g.s, g.up))
				},
				ref: func(dst []float64, in [][]float64) {
					perSample(B, dst, g.cin, in, []int{g.cout}, func(dst []float64, in [][]float64) {
						conv3x3VJPRef(dst, in[0], w, g.cin, g.h, g.w, g.cout, g.s, g.up)
					})
				},
			})
	}
	run(t, b, cases)
}

// TestConvFold runs a conv whose dispatch folds into a 2-D grid with a
// partial last row, each workgroup still finding its channel block and
// tile.
func TestConvFold(t *testing.T) {
	b := testBackend(t, nil)
	limit := b.d.maxGroups
	b.d.maxGroups = 5
	defer func() { b.d.maxGroups = limit }()
	c, w, bias := testConv(t, b.d, 5, 19, 3)
	// 3 channel blocks × 2 tiles of 256 pixels: 6 workgroups, 5 per row.
	const h, wd = 16, 20
	run(t, b, []kcase{{
		name: "conv3x3_fwd/cin=5,cout=19,h=16,w=20,maxgroups=5", ins: []int{5 * h * wd}, out: 19 * h * wd, alias: -1, tol: 1e-5,
		gpu: func(b *Backend, dst *Buffer, in []*Buffer) { must(b.d.conv3x3(c, dst, in[0], nil, 1, h, wd, 1, false)) },
		ref: func(dst []float64, in [][]float64) { conv3x3Ref(dst, in[0], w, bias, nil, 5, h, wd, 19, 1, false) },
	}})
}

func TestConv1x1(t *testing.T) {
	b := testBackend(t, nil)
	var cases []kcase
	for _, g := range []struct{ cin, cout, n int }{{1, 1, 1}, {3, 5, 17}, {7, 9, 65}, {13, 6, 64}, {2, 6, 63}, {9, 17, 257}, {16, 8, 256}, {17, 24, 1023}, {17, 33, 1024}, {3, 2, 4}} {
		c, w, bias := testConv(t, b.d, g.cin, g.cout, 1)
		fwd := func(dst []float64, x, res []float64) {
			for o := range g.cout {
				for k := range g.n {
					v := bias[o]
					for ci := range g.cin {
						v += w[o*g.cin+ci] * x[ci*g.n+k]
					}
					if res != nil {
						v += res[o*g.n+k]
					}
					dst[o*g.n+k] = v
				}
			}
		}
		vars := fmt.Sprintf("cin=%d,cout=%d,n=%d", g.cin, g.cout, g.n)
		nin, nout := g.cin*g.n, g.cout*g.n
		cases = append(cases,
			kcase{
				name: "conv1x1_fwd/" + vars, ins: []int{nin}, out: nout, alias: -1, tol: 1e-5,
				gpu: func(b *Backend, dst *Buffer, in []*Buffer) { must(b.d.conv1x1(c, dst, in[0], nil, g.n)) },
				ref: func(dst []float64, in [][]float64) { fwd(dst, in[0], nil) },
			},
			kcase{
				name: "conv1x1_fwd/res," + vars, ins: []int{nin, nout}, out: nout, alias: -1, tol: 1e-5,
				gpu: func(b *Backend, dst *Buffer, in []*Buffer) { must(b.d.conv1x1(c, dst, in[0], in[1], g.n)) },
				ref: func(dst []float64, in [][]float64) { fwd(dst, in[0], in[1]) },
			},
			kcase{
				name: "conv1x1_vjp/" + vars, ins: []int{nout}, out: nin, alias: -1, tol: 1e-5,
				gpu: func(b *Backend, dst *Buffer, in []*Buffer) { must(b.d.conv1x1VJP(c, dst, in[0], g.n)) },
				ref: func(dst []float64, in [][]float64) {
					for ci := range g.cin {
						for k := range g.n {
							var v float64
							for o := range g.cout {
								v += w[o*g.cin+ci] * in[0][o*g.n+k]
							}
							dst[ci*g.n+k] = v
						}
					}
				},
			})
	}
	run(t, b, cases)
}

// testNorm returns random GroupNorm parameters on the device and in float64.
func testNorm(t *testing.T, d *Device, c int) (*norm, []float64, []float64) {
	t.Helper()
	r := rand.New(rand.NewPCG(uint64(c), 7))
	g, bt := make([]float32, c), make([]float32, c)
	for i := range g {
		g[i] = float32(1 + 0.3*r.NormFloat64())
		bt[i] = float32(0.3 * r.NormFloat64())
	}
	nm := &norm{}
	var err error
	if nm.gamma, err = uploadF32(d, g); err != nil {
		t.Fatal(err)
	}
	if nm.beta, err = uploadF32(d, bt); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nm.destroy)
	g64, b64 := make([]float64, c), make([]float64, c)
	for i := range g {
		g64[i], b64[i] = float64(g[i]), float64(bt[i])
	}
	return nm, g64, b64
}

// groupNormRef sets y to GroupNorm(x) (before any SiLU) and xh to the
// normalised values, returning each group's 1/std.
func groupNormRef(y, xh, x, gamma, beta []float64, c, n, groups int) []float64 {
	m := c / groups * n
	rstd := make([]float64, groups)
	for g := range groups {
		xs := x[g*m : (g+1)*m]
		var s, ss float64
		for _, v := range xs {
			s += v
		}
		mean := s / float64(m)
		for _, v := range xs {
			ss += (v - mean) * (v - mean)
		}
		rstd[g] = 1 / math.Sqrt(ss/float64(m)+1e-5)
		for i, v := range xs {
			ch := (g*m + i) / n
			xh[g*m+i] = (v - mean) * rstd[g]
			y[g*m+i] = gamma[ch]*xh[g*m+i] + beta[ch]
		}
	}
	return rstd
}

func sigmoid64(v float64) float64 { return 1 / (1 + math.Exp(-v)) }

func TestGroupNorm(t *testing.T) {
	b := testBackend(t, nil)
	var cases []kcase
	for _, g := range []struct {
		c, n, groups int
		silu         bool
		batch        int // 0: one sample
	}{
		{1, 1, 1, false, 0}, {2, 1, 1, true, 0}, {6, 7, 3, true, 0}, {8, 65, 4, true, 0}, {12, 5, 2, false, 0}, {16, 256, 8, true, 0}, {3, 67, 1, false, 0},
		// Batches: statistics per sample and group.
		{6, 7, 3, true, 3}, {8, 65, 4, false, 2}, {4, 256, 2, true, 5}, {3, 5, 1, false, 4},
	} {
		B := max(g.batch, 1)
		nm, gamma, beta := testNorm(t, b.d, g.c)
		stats, err := b.d.NewBuffer(2 * g.groups * B)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { stats.Destroy() })
		tmp, err := b.d.NewBuffer(B * g.c * g.n)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { tmp.Destroy() })
		N := g.c * g.n // one sample
		vars := fmt.Sprintf("c=%d,n=%d,groups=%d,silu=%v,batch=%d", g.c, g.n, g.groups, g.silu, B)
		fwd := func(dst []float64, in [][]float64) {
			xh := make([]float64, N)
			groupNormRef(dst, xh, in[0], gamma, beta, g.c, g.n, g.groups)
			if g.silu {
				for i, v := range dst {
					dst[i] = v * sigmoid64(v)
				}
			}
		}
		vjp := func(dst []float64, in [][]float64, add []float64) {
			y, xh := make([]float64, N), make([]float64, N)
			rstd := groupNormRef(y, xh, in[1], gamma, beta, g.c, g.n, g.groups)
			m := g.c / g.groups * g.n
			d := make([]float64, N)
			for i := range d {
				e := in[0][i]
				if g.silu {
					s := sigmoid64(y[i])
					e *= s * (1 + y[i]*(1-s))
				}
				d[i] = gamma[i/g.n] * e
			}
			for gi := range g.groups {
				var md, mdx float64
				for i := gi * m; i < (gi+1)*m; i++ {
					md += d[i] / float64(m)
					mdx += d[i] * xh[i] / float64(m)
				}
				for i := gi * m; i < (gi+1)*m; i++ {
					dst[i] = rstd[gi] * (d[i] - md - xh[i]*mdx)
					if add != nil {
						dst[i] += add[i]
					}
				}
			}
		}
		cs := []int{g.c, g.c, g.c}
		cases = append(cases,
			kcase{
				name: "groupnorm_fwd/" + vars, ins: []int{B * N}, out: B * N, alias: -1, tol: 1e-5,
				gpu: func(b *Backend, dst *Buffer, in []*Buffer) {
					must(b.d.groupNorm(nm, dst, stats, in[0], g.c, B, g.n, g.groups, g.silu))
				},
				ref: func(dst []float64, in [][]float64) { perSample(B, dst, g.c, in, cs, fwd) },
			},
			kcase{
				// ins: dy, x, add.
				name: "groupnorm_vjp/add," + vars, ins: []int{B * N, B * N, B * N}, out: B * N, alias: -1, tol: 1e-4,
				gpu: func(b *Backend, dst *Buffer, in []*Buffer) {
					must(b.d.groupNorm(nm, tmp, stats, in[1], g.c, B, g.n, g.groups, g.silu))
					must(b.d.groupNormVJP(nm, dst, stats, in[1], in[0], in[2], g.c, B, g.n, g.groups, g.silu))
				},
				ref: func(dst []float64, in [][]float64) {
					perSample(B, dst, g.c, in, cs, func(dst []float64, in [][]float64) { vjp(dst, in, in[2]) })
				},
			})
		// In a group of one or two values the projection leaves (almost)
		// nothing: the exact gradient is cancellation, unfit for a relative
		// error. The case with add covers those groups.
		if g.c/g.groups*g.n > 2 {
			cases = append(cases, kcase{
				name: "groupnorm_vjp/" + vars, ins: []int{B * N, B * N}, out: B * N, alias: -1, tol: 1e-4,
				gpu: func(b *Backend, dst *Buffer, in []*Buffer) {
					must(b.d.groupNorm(nm, tmp, stats, in[1], g.c, B, g.n, g.groups, g.silu))
					must(b.d.groupNormVJP(nm, dst, stats, in[1], in[0], nil, g.c, B, g.n, g.groups, g.silu))
				},
				ref: func(dst []float64, in [][]float64) {
					perSample(B, dst, g.c, in, cs[:2], func(dst []float64, in [][]float64) { vjp(dst, in, nil) })
				},
			})
		}
	}
	run(t, b, cases)
}

// attentionRef sets o to attention(qkv) and returns the softmax weights,
// row (h, i) at (h·n + i)·n.
func attentionRef(o, qkv []float64, ch, n, heads int) []float64 {
	d := ch / heads
	a := make([]float64, heads*n*n)
	for h := range heads {
		for i := range n {
			row := a[(h*n+i)*n : (h*n+i+1)*n]
			mx := math.Inf(-1)
			for j := range n {
				for c := h * d; c < (h+1)*d; c++ {
					row[j] += qkv[c*n+i] * qkv[(ch+c)*n+j]
				}
				row[j] /= math.Sqrt(float64(d))
				mx = max(mx, row[j])
			}
			var s float64
			for j := range row {
				row[j] = math.Exp(row[j] - mx)
				s += row[j]
			}
			for j := range row {
				row[j] /= s
			}
			for c := h * d; c < (h+1)*d; c++ {
				o[c*n+i] = 0
				for j := range n {
					o[c*n+i] += row[j] * qkv[(2*ch+c)*n+j]
				}
			}
		}
	}
	return a
}

func TestAttention(t *testing.T) {
	b := testBackend(t, nil)
	var cases []kcase
	for _, g := range []struct{ ch, n, heads int }{{1, 1, 1}, {4, 5, 2}, {6, 17, 3}, {8, 64, 2}, {4, 65, 1}, {3, 256, 3}} {
		probs, err := b.d.NewBuffer(g.heads * g.n * g.n)
		if err != nil {
			t.Fatal(err)
		}
		ds, err := b.d.NewBuffer(g.heads * g.n * g.n)
		if err != nil {
			t.Fatal(err)
		}
		o, err := b.d.NewBuffer(g.ch * g.n)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { probs.Destroy(); ds.Destroy(); o.Destroy() })
		vars := fmt.Sprintf("ch=%d,n=%d,heads=%d", g.ch, g.n, g.heads)
		ch, n, d := g.ch, g.n, g.ch/g.heads
		cases = append(cases,
			kcase{
				name: "attention_fwd/" + vars, ins: []int{3 * ch * n}, out: ch * n, alias: -1, tol: 1e-5,
				gpu: func(b *Backend, dst *Buffer, in []*Buffer) {
					must(b.d.attention(dst, probs, in[0], ch, n, g.heads))
				},
				ref: func(dst []float64, in [][]float64) { attentionRef(dst, in[0], ch, n, g.heads) },
			},
			kcase{
				// ins: qkv, do.
				name: "attention_vjp/" + vars, ins: []int{3 * ch * n, ch * n}, out: 3 * ch * n, alias: -1, tol: 1e-4,
				gpu: func(b *Backend, dst *Buffer, in []*Buffer) {
					must(b.d.attention(o, probs, in[0], ch, n, g.heads))
					must(b.d.attentionVJP(dst, ds, in[1], in[0], probs, ch, n, g.heads))
				},
				ref: func(dst []float64, in [][]float64) {
					qkv, do := in[0], in[1]
					a := attentionRef(make([]float64, ch*n), qkv, ch, n, g.heads)
					clear(dst)
					for h := range g.heads {
						for i := range n {
							row := a[(h*n+i)*n : (h*n+i+1)*n]
							dS := make([]float64, n)
							var dot float64
							for j := range n {
								for c := h * d; c < (h+1)*d; c++ {
									dS[j] += do[c*n+i] * qkv[(2*ch+c)*n+j]
								}
								dot += row[j] * dS[j]
							}
							for j := range n {
								dS[j] = row[j] * (dS[j] - dot) / math.Sqrt(float64(d))
								for c := h * d; c < (h+1)*d; c++ {
									dst[c*n+i] += dS[j] * qkv[(ch+c)*n+j]
									dst[(ch+c)*n+j] += dS[j] * qkv[c*n+i]
									dst[(2*ch+c)*n+j] += row[j] * do[c*n+i]
								}
							}
						}
					}
				},
			})
	}
	run(t, b, cases)
}

//go:build js

package model

import "math"

// Constants of exp: log₂e, and ln 2 split so that k·ln2Hi is exact for
// every k exp uses (ln2Hi has 32 significant bits; fdlibm's split).
const (
	log2e = 1.44269504088896338700e+00
	ln2Hi = 6.93147180369123816490e-01
	ln2Lo = 1.90821492927058770002e-10
)

// exp returns eˣ to within a few ulps for the sigmoid in WebAssembly,
// where math.Exp is pure Go through Ldexp and took a fifth of a tile's
// time (natively it is assembly, and faster than this). It reduces
// x = k·ln 2 + r with |r| ≤ ln 2/2, sums e^r's Taylor series to r¹²
// (truncation below 2e−16 relative) and scales by 2ᵏ through the exponent
// bits. The conversions keep a compiler from fusing a multiply and an add.
// Its results differ from math.Exp's by at most a few ulps, which moves a
// float32 sigmoid by one ulp about once in 10⁸ calls: the browser's result
// still equals the command line's in 8 bits.
func exp(x float64) float64 {
	switch {
	case x != x:
		return x
	case x > 709:
		return math.Inf(1)
	case x < -708:
		return 0 // below the normal range: the sigmoid's 1/(1+eˣ) is 1 either way
	}
	k := math.Floor(float64(x*log2e) + 0.5)
	r := float64(x-float64(k*ln2Hi)) - float64(k*ln2Lo)
	p := float64(r*(1.0/479001600)) + 1.0/39916800
	p = float64(p*r) + 1.0/3628800
	p = float64(p*r) + 1.0/362880
	p = float64(p*r) + 1.0/40320
	p = float64(p*r) + 1.0/5040
	p = float64(p*r) + 1.0/720
	p = float64(p*r) + 1.0/120
	p = float64(p*r) + 1.0/24
	p = float64(p*r) + 1.0/6
	p = float64(p*r) + 0.5
	p = float64(p*r) + 1
	p = float64(p*r) + 1
	return p * math.Float64frombits(uint64(int64(k)+1023)<<52)
}

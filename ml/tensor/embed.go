package tensor

import (
	"fmt"
	"math"
)

// TimestepEmbedding returns the sinusoidal embedding [len(ts), dim] of SD's
// timestep_embedding(t, dim, max_period) (ldm/ComfyUI, repeat_only=False):
// cos first, then sin, and a zero column when dim is odd.
//
// Reference loop, with half = dim/2, in float32 as torch computes it:
//
//	freq[i] = exp(-ln(maxPeriod)·i / half)
//	out[b, i] = cos(t[b]·freq[i]); out[b, half+i] = sin(t[b]·freq[i])
func TimestepEmbedding(ts []float32, dim int, maxPeriod float64) *Tensor {
	half := dim / 2
	out := New(len(ts), dim)
	freqs := make([]float32, half)
	nl := float32(-math.Log(maxPeriod))
	for i := range freqs {
		freqs[i] = float32(math.Exp(float64(nl * float32(i) / float32(half))))
	}
	for b, t := range ts {
		row := out.Data[b*dim : (b+1)*dim]
		for i, f := range freqs {
			a := float64(t * f)
			row[i] = float32(math.Cos(a))
			row[half+i] = float32(math.Sin(a))
		}
	}
	return out
}

// Embedding returns rows of weight [V, D] picked by ids: out[i] = weight[ids[i]]
// ([len(ids), D], float32; half-precision weights are widened). An id out
// of range panics with the vocabulary size, as torch raises IndexError.
func Embedding(weight *Tensor, ids []int) *Tensor {
	if weight.Dims() != 2 {
		panic(fmt.Sprintf("tensor: Embedding weight must be [V, D], got %v", weight.Shape))
	}
	v, d := weight.Shape[0], weight.Shape[1]
	out := New(len(ids), d)
	for i, id := range ids {
		if id < 0 || id >= v {
			panic(fmt.Sprintf("tensor: Embedding id %d out of range for %d rows", id, v))
		}
		row := weight.Select(0, id)
		dst := out.Data[i*d : (i+1)*d]
		if row.DType == F32 {
			row.copyTo(dst)
			continue
		}
		for j := range dst {
			dst[j] = halfAt(row.DType, row.Half[row.Offset+j*row.Strides[0]])
		}
	}
	return out
}

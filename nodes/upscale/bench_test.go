package upscale

import (
	"runtime"
	"testing"
	"time"

	"github.com/comfyd/comfyd/api"
	"github.com/comfyd/comfyd/ml/tensor"
	"github.com/comfyd/comfyd/node"
)

// BenchmarkImagePipeline: a batch of four 2048×2048 images through
// ImageScale (bicubic → 4096×4096), ImageBlur (radius 15, sigma 5) and
// ImageCompositeMasked (the blurred image over the scaled one through a
// FeatherMask-ed mask). It reports the heap high-water mark it observed.
func BenchmarkImagePipeline(b *testing.B) {
	call := func(class string, in node.Inputs) []any {
		def, ok := node.Default.Get(class)
		if !ok {
			b.Fatalf("%s not registered", class)
		}
		res, err := def.New().Run(&node.Context{}, in)
		if err != nil {
			b.Fatal(err)
		}
		return res.Outputs
	}
	img := tensor.New(4, 2048, 2048, 3)
	for i := range img.Data {
		img.Data[i] = float32(i%251) / 250
	}
	solid := call("SolidMask", node.Inputs{"value": api.Float(1), "width": num(4096), "height": num(4096)})[0]
	mask := call("FeatherMask", node.Inputs{"mask": solid, "left": num(256), "top": num(256), "right": num(256), "bottom": num(256)})[0]
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	peak := uint64(0)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // sample the live heap while the pipeline runs
		defer close(done)
		// ReadMemStats stops the world: sample every few milliseconds, not
		// in a tight loop, or the sampler itself dominates the timing.
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		scaled := call("ImageScale", node.Inputs{"image": img, "upscale_method": "bicubic", "width": num(4096), "height": num(4096), "crop": "disabled"})[0]
		blurred := call("ImageBlur", node.Inputs{"image": scaled, "blur_radius": num(15), "sigma": api.Float(5)})[0]
		out := call("ImageCompositeMasked", node.Inputs{"destination": scaled, "source": blurred, "x": num(0), "y": num(0), "resize_source": false, "mask": mask})[0]
		if out.(*tensor.Tensor).Dim(1) != 4096 {
			b.Fatal("size")
		}
	}
	b.StopTimer()
	close(stop)
	<-done
	b.ReportMetric(float64(peak)/(1<<20), "peakMiB")
	b.ReportMetric(float64(base.HeapAlloc)/(1<<20), "inputsMiB")
}

package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"math/rand"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/comfyd/comfyd/api"
	"github.com/comfyd/comfyd/node"
)

func emptyPreviewPrompt(color int) string {
	return fmt.Sprintf(`{"1": {"class_type": "EmptyImage", "inputs": {"width": 64, "height": 64, "batch_size": 1, "color": %d}},
"2": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}}}`, color)
}

func benchEnv(b *testing.B) *testEnv {
	if _, ok := node.Default.Get("PreviewImage"); !ok {
		b.Skip("image nodes not registered")
	}
	return newEnv(b, nil, node.Default, realExec{})
}

// BenchmarkPromptRoundTrip: with a WebSocket open, POST EmptyImage(64×64) →
// PreviewImage and wait for the final executing-null. The colour changes
// every time so that nothing is served from the cache.
func BenchmarkPromptRoundTrip(b *testing.B) {
	b.Run("EmptyImage-PreviewImage", func(b *testing.B) { roundTrip(b, benchEnv(b), emptyPreviewPrompt) })
	// The server and executor alone: two in-memory test nodes, no file I/O.
	b.Run("test-nodes", func(b *testing.B) {
		roundTrip(b, newEnv(b, nil, nil, realExec{}), func(i int) string {
			return fmt.Sprintf(`{"1": {"class_type": "TestSource", "inputs": {"value": %d}}, "2": {"class_type": "TestSave", "inputs": {"images": ["1", 0], "mode": "a"}}}`, i%10)
		})
	})
}

func roundTrip(b *testing.B, e *testEnv, prompt func(i int) string) {
	ws := e.dial("?clientId=bench")
	ws.next()
	// Steady state: a socket connected for a while (a just-connected
	// socket is held answerGraceCold after each answer, a warm one
	// answerGrace; see Hub.hold).
	time.Sleep(warmSocket)
	client := e.http.Client()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		body := `{"client_id": "bench", "prompt": ` + prompt(i%16777215) + `}`
		resp, err := client.Post(e.url("/prompt"), "application/json", bytes.NewBufferString(body))
		if err != nil {
			b.Fatal(err)
		}
		rb, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("%d %s", resp.StatusCode, rb)
		}
		var r struct {
			PromptID string `json:"prompt_id"`
		}
		json.Unmarshal(rb, &r)
		ws.until(api.EventExecuting, r.PromptID, func(d *api.Object) bool { n, _ := d.Get("node"); return n == nil })
	}
}

// BenchmarkQueueThroughput: b.N prompts posted by 8 clients at once, until
// all are executed; reports prompts/s.
func BenchmarkQueueThroughput(b *testing.B) {
	e := benchEnv(b)
	client := e.http.Client()
	start := e.q.HistoryLen()
	b.ResetTimer()
	var wg sync.WaitGroup
	work := make(chan int)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				resp, err := client.Post(e.url("/prompt"), "application/json", bytes.NewBufferString(`{"prompt": `+emptyPreviewPrompt(i%16777215)+`}`))
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	for i := 0; i < b.N; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	waitFor(b, "all executed", func() bool { return e.q.HistoryLen()-start >= b.N })
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "prompts/s")
}

// BenchmarkView2MB: GET /view of a 2 MB PNG.
func BenchmarkView2MB(b *testing.B) {
	e := newEnv(b, nil, nil, nil)
	m := image.NewNRGBA(image.Rect(0, 0, 730, 730))
	rand.New(rand.NewSource(1)).Read(m.Pix)
	var buf bytes.Buffer
	png.Encode(&buf, m)
	e.writeFile("output/big.png", buf.Bytes())
	client := e.http.Client()
	b.SetBytes(int64(buf.Len()))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		resp, err := client.Get(e.url("/view?filename=big.png&type=output"))
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || n != int64(buf.Len()) {
			b.Fatalf("%d %d", resp.StatusCode, n)
		}
	}
}

package queue

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/comfyd/comfyd/api"
)

// The crash test re-executes the test binary as a child that works on a
// queue and reports each acknowledged step on stdout; the parent SIGKILLs it
// at a random moment and checks what a fresh Open finds.
const (
	envCrashMode = "COMFYD_QUEUE_CRASH_CHILD" // "fill" or "rerun"
	envCrashDir  = "COMFYD_QUEUE_CRASH_DIR"
	envCrashSeed = "COMFYD_QUEUE_CRASH_SEED"
	crashItems   = 60
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(envCrashMode); mode != "" {
		crashChild(mode, os.Getenv(envCrashDir))
		os.Exit(0) // unreachable in practice: the parent kills the child
	}
	os.Exit(m.Run())
}

func say(format string, args ...any) { fmt.Fprintf(os.Stdout, format+"\n", args...) }

func crashChild(mode, dir string) {
	q, err := Open(dir, Options{Logger: quietLog()})
	if err != nil {
		say("error %v", err)
		os.Exit(2)
	}
	seed, _ := strconv.ParseUint(os.Getenv(envCrashSeed), 10, 64)
	r := rand.New(rand.NewPCG(seed, 99))
	ctx := context.Background()
	switch mode {
	case "fill":
		// Put items, and now and then run one: Get ("running") after the
		// Put of step 4k+1, Done ("done") after that of step 4k+3, so at most
		// one runs at a time and one runs about half of the time.
		var running string
		for i := range crashItems {
			var number any
			switch i % 7 {
			case 3: // "front": the counter negated
				number = api.Int(-q.NextNumber())
			case 5: // client-chosen
				number = api.Float(float64(r.IntN(40)) / 4)
			default:
				number = api.Int(q.NextNumber())
			}
			id := fmt.Sprintf("k%03d", i)
			if err := q.Put(mkItem(number, id)); err != nil {
				say("error %v", err)
				os.Exit(2)
			}
			say("acked %s %s", id, api.MustMarshal(number))
			if running != "" && i%4 == 3 {
				if err := q.Done(running, mkEntry(mkItem(api.Int(0), running), "success")); err != nil {
					say("error %v", err)
					os.Exit(2)
				}
				say("done %s", running)
				running = ""
			} else if running == "" && i%4 == 1 {
				it, err := q.Get(ctx)
				if err != nil {
					say("error %v", err)
					os.Exit(2)
				}
				running = it.PromptID
				say("running %s", running)
			}
			time.Sleep(time.Duration(r.IntN(300)) * time.Microsecond)
		}
		if running == "" {
			it, _ := q.Get(ctx)
			say("running %s", it.PromptID)
		}
	case "rerun":
		it, err := q.Get(ctx)
		if err != nil {
			say("error %v", err)
			os.Exit(2)
		}
		say("running %s", it.PromptID)
	}
	say("idle")
	time.Sleep(time.Minute) // wait for SIGKILL (not select{}: the runtime would call that a deadlock)
}

// runChild starts a child, lets it print lines and kills it with SIGKILL
// after killAfter lines (or at "idle"), then returns everything it printed.
func runChild(t *testing.T, mode, dir string, seed uint64, killAfter int, jitter time.Duration) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envCrashMode+"="+mode, envCrashDir+"="+dir, envCrashSeed+"="+strconv.FormatUint(seed, 10))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var lines []string
	sc := bufio.NewScanner(out)
	killed := false
	timer := time.AfterFunc(20*time.Second, func() { cmd.Process.Kill() })
	defer timer.Stop()
	for sc.Scan() {
		line := sc.Text()
		lines = append(lines, line)
		if strings.HasPrefix(line, "error") {
			t.Fatalf("child: %s", line)
		}
		if !killed && (len(lines) >= killAfter || line == "idle") {
			time.Sleep(jitter)
			cmd.Process.Kill() // SIGKILL: no deferred writes, no Close
			killed = true
		}
	}
	io.Copy(io.Discard, out)
	cmd.Wait()
	if !killed {
		t.Fatalf("child exited on its own: %v", lines)
	}
	return lines
}

func TestCrashKill9(t *testing.T) {
	iterations := 16
	if testing.Short() {
		iterations = 3
	}
	var wasRunning, wasIdle int
	for it := range iterations {
		seed := uint64(it + 1)
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			if crashOnce(t, seed) {
				wasRunning++
			} else {
				wasIdle++
			}
		})
	}
	t.Logf("killed while a prompt ran: %d times; while none ran: %d times", wasRunning, wasIdle)
	// Each case has about even odds per iteration.
	if !testing.Short() && (wasRunning == 0 || wasIdle == 0) {
		t.Errorf("the kills did not cover both cases")
	}
}

// crashOnce runs one kill -9 scenario and reports whether a prompt was
// running (Get returned, Done not) when the child died.
func crashOnce(t *testing.T, seed uint64) bool {
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(seed, 7))
	// Lines printed by "fill": 60 acked + 15 running + 15 done + idle.
	killAfter := 1 + r.IntN(91)
	jitter := time.Duration(r.IntN(400)) * time.Microsecond
	lines := runChild(t, "fill", dir, seed, killAfter, jitter)

	numbers := map[string]any{}
	var acked, done []string
	running := ""
	for _, l := range lines {
		f := strings.Fields(l)
		switch f[0] {
		case "acked":
			n, err := api.Decode([]byte(f[2]))
			if err != nil {
				t.Fatal(err)
			}
			numbers[f[1]] = n
			acked = append(acked, f[1])
		case "running":
			running = f[1]
		case "done":
			done = append(done, f[1])
			running = ""
		}
	}
	t.Logf("killed after %d lines: %d acked, %d done, running %q", len(lines), len(acked), len(done), running)

	q := open(t, dir, Options{})
	pend, run, hist := ids(q.Pending()), ids(q.Running()), histIDs(q.History(nil, nil))
	if len(run) != 0 {
		t.Fatalf("running after restart: %v", run)
	}
	where := map[string]string{}
	for _, id := range pend {
		where[id] += "p"
	}
	for _, id := range hist {
		where[id] += "h"
	}
	for id, w := range where {
		if len(w) != 1 {
			t.Fatalf("%s found %d times (%s)", id, len(w), w)
		}
	}
	// Every acknowledged item survived.
	for _, id := range acked {
		if where[id] == "" {
			t.Fatalf("acked item %s lost", id)
		}
	}
	// At most one unacknowledged item (the Put in flight), the next one.
	for id := range where {
		if _, ok := numbers[id]; !ok {
			if want := fmt.Sprintf("k%03d", len(acked)); id != want {
				t.Fatalf("unexpected item %s (next would be %s)", id, want)
			}
			numbers[id] = nil // its number is unknown; excluded from the order check
		}
	}
	// History is in completion order: the done ones, plus possibly the
	// running one whose Done had returned without its line being printed.
	if !slices.Equal(hist[:min(len(hist), len(done))], done) ||
		len(hist) > len(done)+1 || (len(hist) == len(done)+1 && hist[len(hist)-1] != running) {
		t.Fatalf("history %v, done %v (running %q)", hist, done, running)
	}
	// The interrupted prompt comes back first.
	recovered := ""
	if running != "" && where[running] == "p" {
		recovered = running
		if pend[0] != running {
			t.Fatalf("interrupted %s is not first: %v", running, pend)
		}
	}

	// A second death while re-running it (or, if nothing was running, two
	// deaths while running the next prompt) records an error; no third run.
	victim, kills := recovered, 0
	switch {
	case recovered != "":
		kills = 1
	case len(pend) > 0:
		kills = 2
	}
	q.Close()
	for k := range kills {
		lines := runChild(t, "rerun", dir, seed, 1, 0)
		got := strings.Fields(lines[0])[1]
		if victim == "" {
			victim = got
		}
		if got != victim {
			t.Fatalf("kill %d: re-ran %s, want %s", k, got, victim)
		}
	}
	q = open(t, dir, Options{})
	if victim != "" {
		e, ok := q.HistoryItem(victim)
		if !ok || e.Status.StatusStr != "error" || len(e.Status.Messages) != 1 ||
			!strings.Contains(string(api.MustMarshal(e.Status.Messages[0].Data)), RestartErrorType) {
			t.Fatalf("%s after two deaths: %v %+v", victim, ok, e.Status)
		}
	}
	// The rest drains in (number, prompt_id) order.
	var rest []string
	for _, id := range pend {
		if id != victim {
			rest = append(rest, id)
		}
	}
	slices.SortFunc(rest, func(a, b string) int {
		if c := compareNumbers(numbers[a], numbers[b]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	got := drain(t, q)
	if !slices.Equal(got, rest) {
		// An unacknowledged item has no known number: compare as sets then.
		if _, unknown := numbers[fmt.Sprintf("k%03d", len(acked))]; !unknown || !sameSet(got, rest) {
			t.Fatalf("drain order %v, want %v", got, rest)
		}
	}
	return running != ""
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

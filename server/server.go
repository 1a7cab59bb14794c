// Package server is comfyd's HTTP and WebSocket front: every route of
// ComfyUI 0.3.64 (bare and under /api/, except /internal/*) with its status
// codes, headers and JSON shapes; the WebSocket hub (which implements the
// executor's Sink); the worker loop that takes prompts from the queue, runs
// them and writes history; uploads, /view and user data, all confined to
// their folders by modelpaths.SafeJoin; and the safety ComfyUI lacks (origin
// and Host checks, an optional bearer token, upload and image-size limits).
//
// It imports api, config, node, graph, executor, queue, modelpaths and
// imageio (and web for the embedded UI); it must not import the compute
// wing (ml/...): previews reach it already encoded, through the Sink.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/comfyd/comfyd/api"
	"github.com/comfyd/comfyd/config"
	"github.com/comfyd/comfyd/executor"
	"github.com/comfyd/comfyd/graph"
	"github.com/comfyd/comfyd/modelpaths"
	"github.com/comfyd/comfyd/node"
	"github.com/comfyd/comfyd/queue"
	"github.com/comfyd/comfyd/web"
)

// Version is the ComfyUI version comfyd answers as.
const Version = "0.3.64"

// ValidateFunc is graph.Validate.
type ValidateFunc func(reg *node.Registry, env node.Env, prompt *api.Object, targets []string) (outputs []string, nodeErrors map[string]*api.NodeError, err *api.Error)

// Outcome is what running one prompt produced.
type Outcome = executor.Outcome

// Executor runs prompts: *executor.Executor, or a stand-in in tests.
type Executor interface {
	Execute(ctx context.Context, item api.QueueItem) Outcome
	Interrupt(promptID string)
	Free(unloadModels, freeMemory bool)
	Running() (promptID, clientID, displayNode string)
}

// SinkAware is implemented by test executors that are given their Sink
// after construction (the hub exists only once the server does).
type SinkAware interface {
	SetSink(Sink)
}

// Sink is what the executor sends events through; the Hub implements it.
type Sink = executor.Sink

var (
	_ Sink     = (*Hub)(nil)
	_ Executor = (*executor.Executor)(nil)
)

// Options wires a Server.
type Options struct {
	Config   *config.Config
	Paths    *modelpaths.Paths
	Registry *node.Registry
	Queue    *queue.Queue
	Executor Executor     // nil: executor.New on the hub, with the config's cache and preview settings
	Validate ValidateFunc // nil: graph.Validate
	Logs     *LogBuffer   // nil: a buffer that writes nowhere else
	Logger   *slog.Logger // nil: NewLogger(Logs, --verbose)
}

// Server is one comfyd instance.
type Server struct {
	cfg      *config.Config
	paths    *modelpaths.Paths
	reg      *node.Registry
	q        *queue.Queue
	exec     Executor
	validate ValidateFunc
	hub      *Hub
	logs     *LogBuffer
	log      *slog.Logger
	users    *users
	webFS    fs.FS
	handler  http.Handler

	maxBody      int64
	loopbackOnly bool

	// putMu orders the status broadcast of POST /prompt before the one of
	// the worker taking that prompt (ComfyUI sends both from inside its
	// queue's lock), so clients see status before execution_start.
	putMu sync.Mutex
	// answered holds, per prompt just queued, a channel closed once its POST
	// /prompt answer has been written: the worker waits for it, because
	// clients attach their WebSocket listeners only after that answer
	// arrives (a fast run would otherwise finish unseen; stable-canvas's
	// enqueue hangs so).
	answeredMu sync.Mutex
	answered   map[string]*answer

	// The prompt taken by the worker but not yet handed to the executor
	// (waiting for its answer): an interrupt for it cancels runCancel, the
	// context it will run with, so it stops at its first node instead of
	// being lost.
	takenMu   sync.Mutex
	takenID   string
	takenStop context.CancelFunc

	freeMu                 sync.Mutex
	freeUnload, freeMemory bool

	stopWorker context.CancelFunc
	workerDone chan struct{}
}

// New builds a server; Start runs its worker.
func New(o Options) (*Server, error) {
	if o.Config == nil || o.Paths == nil || o.Registry == nil || o.Queue == nil {
		return nil, errors.New("server: incomplete options")
	}
	if o.Validate == nil {
		o.Validate = graph.Validate
	}
	s := &Server{cfg: o.Config, paths: o.Paths, reg: o.Registry, q: o.Queue, exec: o.Executor, validate: o.Validate,
		logs: o.Logs, log: o.Logger, maxBody: o.Config.MaxUploadBytes()}
	if s.logs == nil {
		s.logs = NewLogBuffer(nil)
	}
	if s.log == nil {
		s.log = NewLogger(s.logs, ParseLevel(o.Config.Verbose))
	}
	s.loopbackOnly = true
	for _, a := range o.Config.Listen {
		if ip := net.ParseIP(a); (ip == nil || !ip.IsLoopback()) && a != "localhost" {
			s.loopbackOnly = false
		}
	}
	s.webFS = web.Files
	if root := o.Config.FrontEndRoot; root != "" {
		r, err := os.OpenRoot(root)
		if err != nil {
			return nil, fmt.Errorf("--front-end-root: %w", err)
		}
		s.webFS = r.FS() // os.Root refuses paths and links that leave root
	}
	u, err := loadUsers(s.paths.UserDir(), o.Config.MultiUser)
	if err != nil {
		return nil, err
	}
	s.users = u
	s.hub = newHub(s.log, s.featureFlags(), s.q.Remaining, func() (string, string, string) { return s.exec.Running() })
	s.logs.setOnWrite(s.hub.logEntry)
	if s.exec == nil {
		s.exec = executor.New(executor.Options{Registry: s.reg, Env: s.paths, Sink: s.hub,
			Cache:         executor.CachePolicy{Kind: o.Config.CacheKind, LRUSize: o.Config.CacheLRU},
			PreviewMethod: o.Config.PreviewMethod, PreviewSize: o.Config.PreviewSize})
	} else if sa, ok := s.exec.(SinkAware); ok {
		sa.SetSink(s.hub)
	}
	s.handler = s.wrap(s.routes())
	return s, nil
}

// Hub returns the WebSocket hub (the executor's Sink).
func (s *Server) Hub() *Hub { return s.hub }

// Handler returns the HTTP handler with every middleware.
func (s *Server) Handler() http.Handler { return s.handler }

// featureFlags is the server's feature flag object. max_upload_size is an
// int, or a float when --max-upload-size was given (argparse quirk).
func (s *Server) featureFlags() api.FeatureFlags {
	v, isFloat := s.cfg.MaxUploadFeature()
	var mus any = api.Int(int64(v))
	if isFloat {
		mus = api.Float(v)
	}
	return api.FeatureFlags{SupportsPreviewMetadata: true, MaxUploadSize: mus}
}

// Start runs the worker loop until Close.
func (s *Server) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	s.stopWorker = cancel
	s.workerDone = make(chan struct{})
	go func() {
		defer close(s.workerDone)
		s.worker(ctx)
	}()
}

// Close interrupts the running prompt, stops the worker and disconnects
// every WebSocket. The queue is left to its owner.
func (s *Server) Close() {
	if s.stopWorker != nil {
		s.exec.Interrupt("")
		s.stopWorker()
		<-s.workerDone
		s.stopWorker = nil
	}
	s.hub.Close()
}

// ListenAndServe listens on every --listen address at --port and serves
// until ctx ends, then shuts down gracefully. ready, if non-nil, is called
// with the bound addresses once every listener is open.
func (s *Server) ListenAndServe(ctx context.Context, ready func(addrs []net.Addr)) error {
	var lns []net.Listener
	for _, a := range s.cfg.Listen {
		// IP literals bind their own family only ("tcp6" sets IPV6_V6ONLY),
		// so that "--listen" (0.0.0.0 and ::) can bind both on one port, as
		// asyncio does.
		network := "tcp"
		if ip := net.ParseIP(a); ip != nil {
			network = "tcp4"
			if ip.To4() == nil {
				network = "tcp6"
			}
		}
		ln, err := net.Listen(network, net.JoinHostPort(a, strconv.Itoa(s.cfg.Port)))
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return err
		}
		lns = append(lns, ln)
	}
	srv := &http.Server{Handler: s.handler, ReadHeaderTimeout: 30 * time.Second, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)}
	if s.cfg.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(s.cfg.TLSCertFile, s.cfg.TLSKeyFile)
		if err != nil {
			return err
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
		for i, l := range lns {
			lns[i] = tls.NewListener(l, srv.TLSConfig)
		}
	}
	errc := make(chan error, len(lns))
	for _, l := range lns {
		go func(l net.Listener) { errc <- srv.Serve(l) }(l)
	}
	if ready != nil {
		addrs := make([]net.Addr, len(lns))
		for i, l := range lns {
			addrs[i] = l.Addr()
		}
		ready(addrs)
	}
	select {
	case <-ctx.Done():
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			srv.Close()
			return err
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	return err
}

// worker is ComfyUI's prompt_worker: take → run → history → status →
// executing null (clients take that last message as "finished", so it goes
// after the history entry exists) → /free flags.
func (s *Server) worker(ctx context.Context) {
	for {
		item, err := s.q.Get(ctx)
		if err != nil {
			return
		}
		s.putMu.Lock()
		s.broadcastStatus()
		s.putMu.Unlock()
		runCtx, runCancel := context.WithCancel(ctx)
		s.takenMu.Lock()
		s.takenID, s.takenStop = item.PromptID, runCancel
		s.takenMu.Unlock()
		s.waitAnswered(runCtx, item)
		s.takenMu.Lock()
		s.takenID, s.takenStop = "", nil
		s.takenMu.Unlock()
		start := time.Now()
		out := s.exec.Execute(runCtx, item)
		runCancel()
		if ctx.Err() != nil {
			// Shutting down mid-prompt: leave it marked running, so that the
			// durable queue runs it again first after a restart.
			return
		}
		entry := api.HistoryEntry{
			Prompt:  withoutSecrets(item),
			Outputs: out.Outputs,
			Status:  api.HistoryStatus{StatusStr: "error", Completed: out.Success, Messages: out.Messages},
			Meta:    out.Meta,
		}
		if out.Success {
			entry.Status.StatusStr = "success"
		}
		if entry.Outputs == nil {
			entry.Outputs = api.NewObject()
		}
		if entry.Meta == nil {
			entry.Meta = map[string]api.NodeMeta{}
		}
		if entry.Status.Messages == nil {
			entry.Status.Messages = []api.StatusMessage{}
		}
		if err := s.q.Done(item.PromptID, entry); err != nil {
			s.log.Error("cannot store history", "prompt_id", item.PromptID, "err", err)
		}
		s.broadcastStatus()
		if cid := item.ClientID(); cid != "" {
			s.hub.Send(cid, api.Message{Type: api.EventExecuting, Data: api.ExecutingDone{PromptID: item.PromptID}})
		}
		s.log.Info(fmt.Sprintf("Prompt executed in %.2f seconds", time.Since(start).Seconds()))
		s.applyFree()
	}
}

// interruptTaken cancels the taken prompt if it matches (id "" = any);
// it reports whether it did.
func (s *Server) interruptTaken(id string) bool {
	s.takenMu.Lock()
	defer s.takenMu.Unlock()
	if s.takenStop != nil && (id == "" || id == s.takenID) {
		s.takenStop()
		return true
	}
	return false
}

// answerWait bounds how long the worker waits for a POST /prompt answer.
const answerWait = 500 * time.Millisecond

// After a POST /prompt answer, the events sent to that client's socket
// are held for answerGrace (answerGraceCold when the socket connected only
// just now), while the prompt already runs. JavaScript clients
// (stable-canvas's enqueue, @saintno/comfyui-sdk) attach their WebSocket
// listeners only once they have processed that answer, some event-loop
// turns after it arrives (many, for a client that has just started): a
// faster run's events would reach nobody and the client would wait
// forever. ComfyUI needs no such pause: it is slow to start. Holding the
// socket rather than the run costs nothing when the prompt takes longer
// than the grace. Measured with stable-canvas on a warm socket: 5 of 200
// fast prompts lost with no grace, 1 with 1 ms, none with 2 ms.
const (
	answerGrace     = 2 * time.Millisecond
	answerGraceCold = 50 * time.Millisecond
	warmSocket      = 2 * time.Second
)

type answer struct {
	done chan struct{}
	at   time.Time // set before done is closed
}

func (s *Server) expectAnswer(id string) *answer {
	a := &answer{done: make(chan struct{})}
	s.answeredMu.Lock()
	if s.answered == nil {
		s.answered = map[string]*answer{}
	}
	s.answered[id] = a
	s.answeredMu.Unlock()
	return a
}

func (s *Server) markAnswered(id string, a *answer) {
	a.at = time.Now()
	close(a.done)
	time.AfterFunc(answerWait, func() { // the worker may not have looked yet
		s.answeredMu.Lock()
		if s.answered[id] == a {
			delete(s.answered, id)
		}
		s.answeredMu.Unlock()
	})
}

// waitAnswered holds a just-queued prompt until its POST answer is out.
func (s *Server) waitAnswered(ctx context.Context, item api.QueueItem) {
	s.answeredMu.Lock()
	a := s.answered[item.PromptID]
	delete(s.answered, item.PromptID)
	s.answeredMu.Unlock()
	if a == nil {
		return
	}
	t := time.NewTimer(answerWait)
	defer t.Stop()
	select {
	case <-a.done:
	case <-t.C:
	case <-ctx.Done():
	}
}

func (s *Server) applyFree() {
	s.freeMu.Lock()
	unload, free := s.freeUnload, s.freeMemory
	s.freeUnload, s.freeMemory = false, false
	s.freeMu.Unlock()
	if unload || free {
		s.exec.Free(unload, free)
	}
}

func (s *Server) broadcastStatus() {
	s.hub.Broadcast(api.Message{Type: api.EventStatus, Data: api.NewStatus(s.q.Remaining(), "")})
}

// secretKeys are API-node credentials that never reach history
// (ComfyUI's SENSITIVE_EXTRA_DATA_KEYS).
var secretKeys = []string{"auth_token_comfy_org", "api_key_comfy_org"}

func withoutSecrets(item api.QueueItem) api.QueueItem {
	if item.ExtraData == nil {
		return item
	}
	found := false
	for _, k := range secretKeys {
		found = found || item.ExtraData.Has(k)
	}
	if !found {
		return item
	}
	extra := api.Clone(item.ExtraData).(*api.Object)
	for _, k := range secretKeys {
		extra.Delete(k)
	}
	item.ExtraData = extra
	return item
}

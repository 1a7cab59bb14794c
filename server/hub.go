package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/comfyd/comfyd/api"
)

// Hub is the WebSocket side of the server. One goroutine (run) owns the
// map of clients and every subscription; everything else talks to it
// through one channel, so messages from HTTP handlers and from the worker
// reach each socket in the order they were sent (ComfyUI's FIFO publish
// loop). Each client has its own bounded send queue drained by its own
// writer goroutine: a slow client never blocks the hub or the worker; one
// whose queue overflows is disconnected.
//
// Lock order: the hub holds no locks; it calls Remaining (queue mutex) and
// Running (executor) from its goroutine, and neither calls back into it.
type Hub struct {
	ops  chan hubOp
	stop chan struct{}
	done chan struct{}
	log  *slog.Logger

	flags     api.FeatureFlags
	remaining func() int
	running   func() (promptID, clientID, displayNode string)

	// owned by run
	clients map[string]*client
	logSubs map[string]bool
	// backlogs keeps messages addressed to a sid that has no socket (yet):
	// clients often POST before their socket is open or while it
	// reconnects, and a fast run would finish unseen. Replayed on connect.
	backlogs map[string]*backlog
	// nLogSubs mirrors len(logSubs) for logEntry's fast path.
	nLogSubs atomic.Int32
}

// backlog limits: per sid, sids, and how long a backlog waits.
const (
	backlogFrames = 512
	backlogBytes  = 8 << 20
	backlogSIDs   = 256
	backlogTTL    = 30 * time.Second
	backlogTotal  = 64 << 20 // all backlogs together
)

type backlog struct {
	frames []frame
	bytes  int
	last   time.Time
}

func (b *backlog) add(f frame) {
	b.frames = append(b.frames, f)
	b.bytes += len(f.data)
	b.last = time.Now()
	for len(b.frames) > backlogFrames || b.bytes > backlogBytes { // keep the newest
		b.bytes -= len(b.frames[0].data)
		b.frames = b.frames[1:]
	}
}

type client struct {
	sid   string
	conn  *websocket.Conn
	out   chan frame
	ctx   context.Context
	close context.CancelFunc
	// previewMeta is the negotiated supports_preview_metadata (hub-owned).
	previewMeta bool
	since       time.Time // registration time (hub-owned)
	// replay holds what waited for this sid while it had no socket, plus
	// what arrives for it (broadcasts too, to keep the order) until
	// holdUntil, when it is sent (hub-owned).
	replay    *backlog
	holdUntil time.Time
}

type frame struct {
	binary bool
	data   []byte
}

type opKind int

const (
	opRegister opKind = iota
	opUnregister
	opSend
	opFlags
	opSupports
	opSubscribe
	opCount
	opReplay
	opHold
)

// replayDelay is how long a backlog waits after its socket connects.
// Clients attach their listeners when the POST /prompt answer arrives,
// which for a socket opened at the same moment can come after the socket's
// first frames; replaying at once would deliver events nobody listens to
// yet (stable-canvas's enqueue then waits forever).
const replayDelay = 100 * time.Millisecond

type hubOp struct {
	kind  opKind
	c     *client
	sid   string
	f     frame
	on    bool
	reply chan bool
	n     chan int
}

// clientQueue is how many frames may wait for one socket.
const clientQueue = 4096

// writeTimeout bounds one frame's write to a socket.
const writeTimeout = 10 * time.Second

func newHub(log *slog.Logger, flags api.FeatureFlags, remaining func() int, running func() (string, string, string)) *Hub {
	h := &Hub{ops: make(chan hubOp, 1024), stop: make(chan struct{}), done: make(chan struct{}), log: log,
		flags: flags, remaining: remaining, running: running,
		clients: map[string]*client{}, logSubs: map[string]bool{}, backlogs: map[string]*backlog{}}
	go h.run()
	return h
}

func (h *Hub) submit(op hubOp) bool {
	select {
	case h.ops <- op:
		return true
	case <-h.stop:
		return false
	}
}

func (h *Hub) run() {
	defer close(h.done)
	tick := time.NewTicker(backlogTTL / 4)
	defer tick.Stop()
	for {
		select {
		case op := <-h.ops:
			h.apply(op)
		case now := <-tick.C:
			for sid, b := range h.backlogs {
				if now.Sub(b.last) > backlogTTL {
					delete(h.backlogs, sid)
				}
			}
		case <-h.stop:
			for _, c := range h.clients {
				c.close()
			}
			return
		}
	}
}

func (h *Hub) apply(op hubOp) {
	switch op.kind {
	case opRegister:
		op.c.since = time.Now()
		// A reconnect with the same clientId replaces the registration. The
		// old socket stays open but gets nothing more (as in ComfyUI; closing
		// it would make two tabs sharing a clientId reconnect forever).
		h.clients[op.c.sid] = op.c
		greeting := api.Message{Type: api.EventStatus, Data: api.NewStatus(h.remaining(), op.c.sid)}
		h.push(op.c, frame{data: api.MustMarshal(greeting)})
		if b := h.backlogs[op.c.sid]; b != nil {
			// What was sent while no socket was there, in order, a moment
			// later (replayDelay); it ends with the latest executing, so no
			// re-send is needed.
			delete(h.backlogs, op.c.sid)
			h.holdClient(op.c, replayDelay)
			op.c.replay.frames, op.c.replay.bytes = b.frames, b.bytes
		} else if _, cid, node := h.running(); cid == op.c.sid && node != "" {
			h.push(op.c, frame{data: api.MustMarshal(api.Message{Type: api.EventExecuting, Data: map[string]string{"node": node}})})
		}
	case opUnregister:
		// ComfyUI 0.3.64 deletes by sid, so an old socket's close removed a
		// newer socket's registration: only remove our own.
		if h.clients[op.c.sid] == op.c {
			delete(h.clients, op.c.sid)
			delete(h.logSubs, op.c.sid)
			h.nLogSubs.Store(int32(len(h.logSubs)))
		}
	case opSend:
		if op.sid == logSubsMarker {
			for sid := range h.logSubs {
				if c := h.clients[sid]; c != nil {
					h.push(c, op.f)
				}
			}
		} else if op.sid == "" {
			for _, c := range h.clients {
				if c.replay != nil {
					c.replay.add(op.f)
				} else {
					h.push(c, op.f)
				}
			}
		} else if c := h.clients[op.sid]; c != nil && c.replay != nil {
			c.replay.add(op.f) // keep the order behind the pending replay
		} else if c != nil {
			h.push(c, op.f)
		} else if h.backlogBytes()+len(op.f.data) <= backlogTotal {
			b := h.backlogs[op.sid]
			if b == nil && len(h.backlogs) < backlogSIDs {
				b = &backlog{}
				h.backlogs[op.sid] = b
			}
			if b != nil {
				b.add(op.f)
			}
		}
	case opFlags:
		op.c.previewMeta = op.on
		h.push(op.c, frame{data: api.MustMarshal(api.Message{Type: api.EventFeatureFlags, Data: h.flags})})
	case opSupports:
		c := h.clients[op.sid]
		op.reply <- c != nil && c.previewMeta
	case opSubscribe:
		if op.on {
			h.logSubs[op.sid] = true
		} else {
			delete(h.logSubs, op.sid)
		}
		h.nLogSubs.Store(int32(len(h.logSubs)))
	case opCount:
		op.n <- len(h.clients)
	case opHold:
		if c := h.clients[op.sid]; c != nil {
			grace := answerGraceCold
			if time.Since(c.since) >= warmSocket {
				grace = answerGrace
			}
			h.holdClient(c, grace)
		}
	case opReplay:
		if b := op.c.replay; b != nil && !time.Now().Before(op.c.holdUntil) {
			op.c.replay = nil
			for _, f := range b.frames {
				h.push(op.c, f)
			}
		}
	}
}

func (h *Hub) backlogBytes() int {
	n := 0
	for _, b := range h.backlogs {
		n += b.bytes
	}
	return n
}

// holdClient keeps c's frames back for d (extending an earlier hold).
func (h *Hub) holdClient(c *client, d time.Duration) {
	until := time.Now().Add(d)
	if until.Before(c.holdUntil) {
		return
	}
	c.holdUntil = until
	if c.replay == nil {
		c.replay = &backlog{}
	}
	time.AfterFunc(d, func() { h.submit(hubOp{kind: opReplay, c: c}) })
}

// hold keeps sid's frames back for a moment after a POST /prompt answer
// (see answerGrace).
func (h *Hub) hold(sid string) { h.submit(hubOp{kind: opHold, sid: sid}) }

// push queues f for c without blocking; a client that cannot keep up is
// dropped.
func (h *Hub) push(c *client, f frame) {
	select {
	case c.out <- f:
	default:
		h.log.Warn("websocket client too slow, disconnecting", "sid", c.sid)
		c.close()
		if h.clients[c.sid] == c {
			delete(h.clients, c.sid)
			delete(h.logSubs, c.sid)
			h.nLogSubs.Store(int32(len(h.logSubs)))
		}
	}
}

// Send delivers a JSON message to sid, or to every socket when sid == ""
// (executor.Sink).
func (h *Hub) Send(sid string, msg api.Message) {
	b, err := api.Marshal(msg)
	if err != nil {
		h.log.Error("cannot encode websocket message", "type", msg.Type, "err", err)
		return
	}
	h.submit(hubOp{kind: opSend, sid: sid, f: frame{data: b}})
}

// SendBinary delivers a binary frame (executor.Sink).
func (h *Hub) SendBinary(sid string, data []byte) {
	h.submit(hubOp{kind: opSend, sid: sid, f: frame{binary: true, data: data}})
}

// SupportsPreviewMetadata reports whether sid negotiated
// supports_preview_metadata (executor.Sink).
func (h *Hub) SupportsPreviewMetadata(sid string) bool {
	if sid == "" {
		return false
	}
	r := make(chan bool, 1)
	if !h.submit(hubOp{kind: opSupports, sid: sid, reply: r}) {
		return false
	}
	select {
	case v := <-r:
		return v
	case <-h.stop:
		return false
	}
}

// Broadcast sends msg to everyone.
func (h *Hub) Broadcast(msg api.Message) { h.Send("", msg) }

// subscribeLogs turns log messages for sid on or off.
func (h *Hub) subscribeLogs(sid string, on bool) {
	h.submit(hubOp{kind: opSubscribe, sid: sid, on: on})
}

// logEntry forwards a log write to subscribed sockets. It never blocks:
// the hub itself logs, and a full hub must not deadlock on its own log.
func (h *Hub) logEntry(e LogEntry) {
	if h.nLogSubs.Load() == 0 {
		return
	}
	msg := api.Message{Type: api.EventLogs, Data: map[string]any{"entries": []LogEntry{e}, "size": nil}}
	b := api.MustMarshal(msg)
	select {
	case h.ops <- hubOp{kind: opSend, sid: logSubsMarker, f: frame{data: b}}:
	default:
	}
}

// logSubsMarker addresses a send to every log subscriber.
const logSubsMarker = "\x00logs"

// Clients returns how many sockets are registered.
func (h *Hub) Clients() int {
	n := make(chan int, 1)
	if !h.submit(hubOp{kind: opCount, n: n}) {
		return 0
	}
	select {
	case v := <-n:
		return v
	case <-h.stop:
		return 0
	}
}

// Close disconnects every socket and stops the hub.
func (h *Hub) Close() {
	select {
	case <-h.stop:
	default:
		close(h.stop)
	}
	<-h.done
}

func newSID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// serveWS upgrades GET /ws. The sid is ?clientId= or a fresh 32-hex id.
func (h *Hub) serveWS(w http.ResponseWriter, r *http.Request) {
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		InsecureSkipVerify: true, // the origin middleware has already decided
		CompressionMode:    websocket.CompressionDisabled,
	})
	if err != nil {
		return
	}
	conn.SetReadLimit(1 << 20)
	sid := query(r).Get("clientId")
	if sid == "" {
		sid = newSID()
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &client{sid: sid, conn: conn, out: make(chan frame, clientQueue), ctx: ctx, close: cancel}
	if !h.submit(hubOp{kind: opRegister, c: c}) {
		conn.Close(websocket.StatusGoingAway, "server shutting down")
		return
	}
	go c.writeLoop(h)
	negotiated := false
	for {
		typ, data, err := conn.Read(ctx)
		if err != nil {
			break
		}
		if typ != websocket.MessageText || negotiated {
			continue
		}
		// Only the first text frame that is a JSON object counts; it
		// negotiates feature flags if it is {"type": "feature_flags"}.
		v, err := api.Decode(data)
		obj, ok := v.(*api.Object)
		if err != nil || !ok {
			h.log.Debug("ignoring websocket message that is not a JSON object", "sid", sid)
			continue
		}
		negotiated = true
		if t, _ := obj.Get("type"); t == api.EventFeatureFlags {
			on := false
			if d, ok := obj.Get("data"); ok {
				if fl, ok := d.(*api.Object); ok {
					pm, _ := fl.Get("supports_preview_metadata")
					on = pm == true
				}
			}
			h.submit(hubOp{kind: opFlags, c: c, on: on})
		}
	}
	cancel()
	h.submit(hubOp{kind: opUnregister, c: c})
}

func (c *client) writeLoop(h *Hub) {
	defer c.conn.CloseNow()
	for {
		select {
		case f := <-c.out:
			typ := websocket.MessageText
			if f.binary {
				typ = websocket.MessageBinary
			}
			ctx, cancel := context.WithTimeout(c.ctx, writeTimeout)
			err := c.conn.Write(ctx, typ, f.data)
			cancel()
			if err != nil {
				c.close()
				return
			}
		case <-c.ctx.Done():
			select {
			case <-h.stop:
				c.conn.Close(websocket.StatusGoingAway, "server shutting down")
			default:
			}
			return
		}
	}
}

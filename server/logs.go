package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// LogEntry is one write to comfyd's log, as /internal/logs/raw reports it.
type LogEntry struct {
	T string `json:"t"` // local time, Python's isoformat(): 2025-10-12T10:00:00.123456
	M string `json:"m"` // the text, with its newline
}

// LogBuffer keeps the last 300 log writes (ComfyUI's ring buffer) and
// copies every write to an underlying writer (stderr). Subscribers (the
// WebSocket hub) are told about each new entry.
type LogBuffer struct {
	mu      sync.Mutex
	out     io.Writer
	ring    []LogEntry
	next    int
	full    bool
	onWrite func(LogEntry)
}

// LogCapacity is the ring size.
const LogCapacity = 300

// NewLogBuffer returns a buffer that also writes to out (nil = nowhere).
func NewLogBuffer(out io.Writer) *LogBuffer {
	return &LogBuffer{out: out, ring: make([]LogEntry, LogCapacity)}
}

// Write records p as one entry.
func (b *LogBuffer) Write(p []byte) (int, error) {
	e := LogEntry{T: time.Now().Format("2006-01-02T15:04:05.000000"), M: string(p)}
	b.mu.Lock()
	b.ring[b.next] = e
	b.next = (b.next + 1) % len(b.ring)
	if b.next == 0 {
		b.full = true
	}
	out, cb := b.out, b.onWrite
	b.mu.Unlock()
	if out != nil {
		out.Write(p)
	}
	if cb != nil {
		cb(e)
	}
	return len(p), nil
}

// Entries returns the buffered entries, oldest first.
func (b *LogBuffer) Entries() []LogEntry {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.full {
		return append([]LogEntry{}, b.ring[:b.next]...)
	}
	return append(append([]LogEntry{}, b.ring[b.next:]...), b.ring[:b.next]...)
}

func (b *LogBuffer) setOnWrite(f func(LogEntry)) {
	b.mu.Lock()
	b.onWrite = f
	b.mu.Unlock()
}

// NewLogger returns a slog.Logger that writes one plain line per record
// ("message key=value ...", like ComfyUI's log lines) to w, at level and
// above.
func NewLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(&lineHandler{w: w, level: level})
}

// ParseLevel maps ComfyUI's --verbose names to slog levels.
func ParseLevel(name string) slog.Level {
	switch strings.ToUpper(name) {
	case "DEBUG":
		return slog.LevelDebug
	case "WARNING":
		return slog.LevelWarn
	case "ERROR", "CRITICAL":
		return slog.LevelError
	}
	return slog.LevelInfo
}

type lineHandler struct {
	w     io.Writer
	level slog.Level
	attrs []slog.Attr
	mu    sync.Mutex
}

func (h *lineHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }

func (h *lineHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	if r.Level >= slog.LevelWarn {
		b.WriteString(r.Level.String())
		b.WriteString(": ")
	}
	b.WriteString(r.Message)
	write := func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	}
	for _, a := range h.attrs {
		write(a)
	}
	r.Attrs(write)
	b.WriteByte('\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, b.String())
	return err
}

func (h *lineHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &lineHandler{w: h.w, level: h.level, attrs: append(append([]slog.Attr{}, h.attrs...), as...)}
}

func (h *lineHandler) WithGroup(string) slog.Handler { return h }

// Command comfyd is ComfyUI's server rebuilt in Go: a drop-in replacement
// that any ComfyUI client talks to unchanged. With no arguments it listens
// on 127.0.0.1:8188 and keeps its folders (input/ output/ temp/ user/
// models/...) under $XDG_DATA_HOME/comfyd (~/.local/share/comfyd).
//
// main wires config → modelpaths → queue → server and blank-imports
// nodes/all for the node classes; it holds no logic of its own.
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/comfyd/comfyd/config"
	"github.com/comfyd/comfyd/modelpaths"
	"github.com/comfyd/comfyd/node"
	_ "github.com/comfyd/comfyd/nodes/all"
	"github.com/comfyd/comfyd/queue"
	"github.com/comfyd/comfyd/server"
)

func main() {
	start := time.Now()
	cfg, err := config.Load()
	if errors.Is(err, config.ErrHelp) {
		fmt.Print(config.Usage())
		return
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%scomfyd: error: %v\n", config.Usage(), err)
		os.Exit(2) // argparse's status for a usage error
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, start, nil); err != nil {
		fmt.Fprintln(os.Stderr, "comfyd:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends (SIGINT/SIGTERM), then shuts down gracefully.
// ready, if non-nil, gets the bound addresses.
func run(ctx context.Context, cfg *config.Config, start time.Time, ready func([]net.Addr)) error {
	logs := server.NewLogBuffer(os.Stderr)
	log := server.NewLogger(logs, server.ParseLevel(cfg.Verbose))

	base, err := filepath.Abs(cfg.BaseDir)
	if err != nil {
		return err
	}
	in, out, tmp, user := cfg.Dirs()
	paths := modelpaths.New(base, in, out, tmp, user)
	paths.Getenv = cfg.Getenv
	paths.SetDisableMetadata(cfg.DisableMetadata)
	// As main.py: extra_model_paths.yaml beside the base, then the flags'
	// files, then output/<model folders>.
	yamls := cfg.ExtraModelPaths
	if def := filepath.Join(base, "extra_model_paths.yaml"); fileExists(def) {
		yamls = append([]string{def}, yamls...)
	}
	for _, y := range yamls {
		log.Info("Loading extra model paths from " + y)
		added, err := paths.LoadExtraConfig(y)
		if err != nil {
			return err
		}
		for _, a := range added {
			log.Info(fmt.Sprintf("Adding extra search path %s %s", a[0], a[1]))
		}
	}
	paths.AddOutputModelPaths()
	if err := paths.EnsureDirs(); err != nil {
		return err
	}
	if err := paths.ResetTemp(); err != nil {
		return err
	}
	log.Info("comfyd base directory: " + base)

	q, err := queue.Open(filepath.Join(base, ".comfyd"), queue.Options{SyncWrites: cfg.SyncWrites, Logger: log})
	if err != nil {
		return fmt.Errorf("opening the queue: %w", err)
	}
	defer q.Close()

	srv, err := server.New(server.Options{Config: cfg, Paths: paths, Registry: node.Default, Queue: q, Logs: logs, Logger: log})
	if err != nil {
		return err
	}
	srv.Start()
	defer srv.Close()

	err = srv.ListenAndServe(ctx, func(addrs []net.Addr) {
		if ready != nil {
			ready(addrs)
		}
		if cfg.DontPrintServer {
			return
		}
		scheme := "http"
		if cfg.TLSCertFile != "" {
			scheme = "https"
		}
		for _, a := range addrs {
			log.Info(fmt.Sprintf("To see the GUI go to: %s://%s", scheme, a))
		}
		log.Debug("startup", "duration", time.Since(start))
	})
	if err != nil {
		return err
	}
	log.Info("shutting down")
	// ComfyUI removes the temp folder at a clean exit too.
	srv.Close()
	os.RemoveAll(tmp)
	return nil
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

package server

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/comfyd/comfyd/api"
	"github.com/comfyd/comfyd/graph"
)

func (s *Server) getPrompt(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, r, http.StatusOK, map[string]any{"exec_info": api.ExecInfo{QueueRemaining: s.q.Remaining()}})
}

// parsePromptRequest reads a POST /prompt body (§5.1). A body that is not
// a JSON object, or a prompt that is not an object, is a 400 with a JSON
// error (ComfyUI answers both with a bare 500).
func parsePromptRequest(body []byte) (*api.PromptRequest, error) {
	v, err := api.Decode(body)
	if err != nil {
		return nil, badRequest(api.ErrInvalidRequest, "Request body is not valid JSON: "+err.Error())
	}
	o, ok := v.(*api.Object)
	if !ok {
		return nil, badRequest(api.ErrInvalidRequest, "Request body must be a JSON object")
	}
	req := &api.PromptRequest{}
	req.Prompt, req.HasPrompt = o.Get("prompt")
	if cid, ok := o.Get("client_id"); ok {
		// ComfyUI stores whatever was sent; a non-string client id can never
		// match a socket, so only strings are kept.
		if s, ok := cid.(string); ok {
			req.ClientID = s
		}
	}
	if ed, ok := o.Get("extra_data"); ok {
		eo, ok := ed.(*api.Object)
		if !ok {
			return nil, badRequest(api.ErrInvalidRequest, "extra_data must be an object")
		}
		req.ExtraData = eo
	}
	if pid, ok := o.Get("prompt_id"); ok {
		s := api.PyStr(pid) // str() of whatever was sent: null → "None" (quirk)
		req.PromptID = &s
	}
	if n, ok := o.Get("number"); ok {
		f, err := graph.PyFloat(n)
		if err != nil {
			return nil, badRequest(api.ErrInvalidRequest, "number: "+err.Error())
		}
		req.Number = &f
	}
	if f, ok := o.Get("front"); ok {
		req.Front = api.PyTruthy(f)
	}
	if t, ok := o.Get("partial_execution_targets"); ok && t != nil {
		list, ok := t.([]any)
		if !ok {
			return nil, badRequest(api.ErrInvalidRequest, "partial_execution_targets must be a list")
		}
		req.HasPartialTargets = true
		req.PartialExecutionTargets = make([]string, 0, len(list))
		for _, x := range list {
			req.PartialExecutionTargets = append(req.PartialExecutionTargets, api.PyStr(x))
		}
	}
	if req.HasPrompt {
		if _, ok := req.Prompt.(*api.Object); !ok {
			return nil, badRequest(api.ErrInvalidRequest, "prompt must be an object of node id → node")
		}
	}
	return req, nil
}

func (s *Server) postPrompt(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	req, err := parsePromptRequest(body)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.log.Info("got prompt")
	var number any
	if req.Number != nil {
		number = api.Float(*req.Number)
	} else {
		n := s.q.NextNumber()
		if req.Front {
			n = -n
		}
		number = api.Int(n)
	}
	if !req.HasPrompt {
		e := api.NewError(api.ErrNoPrompt, api.MsgNoPrompt, api.MsgNoPrompt, nil)
		writeJSON(w, r, http.StatusBadRequest, api.PromptErrorResponse{Error: e, NodeErrors: map[string]*api.NodeError{}})
		return
	}
	prompt := req.Prompt.(*api.Object)
	extra := req.ExtraData
	if extra == nil {
		extra = api.NewObject()
	}
	if req.ClientID != "" {
		extra.Set("client_id", req.ClientID)
	}
	id := ""
	if req.PromptID != nil {
		id = *req.PromptID
	} else {
		id = newUUID()
	}
	var targets []string
	if req.HasPartialTargets {
		targets = req.PartialExecutionTargets
	}
	outputs, nodeErrors, verr := s.validate(s.reg, s.paths, prompt, targets)
	if nodeErrors == nil {
		nodeErrors = map[string]*api.NodeError{}
	}
	if verr != nil {
		s.log.Warn("invalid prompt: " + verr.Message)
		writeJSON(w, r, http.StatusBadRequest, api.PromptErrorResponse{Error: *verr, NodeErrors: nodeErrors})
		return
	}
	item := api.QueueItem{Number: number, PromptID: id, Prompt: prompt, ExtraData: extra, Outputs: outputs}
	answered := s.expectAnswer(id)
	defer s.markAnswered(id, answered)
	s.putMu.Lock()
	err = s.q.Put(item)
	if err == nil {
		s.broadcastStatus()
	}
	s.putMu.Unlock()
	if err != nil {
		s.fail(w, r, fmt.Errorf("queueing prompt: %w", err))
		return
	}
	writeJSON(w, r, http.StatusOK, api.PromptResponse{PromptID: id, Number: number, NodeErrors: nodeErrors})
	http.NewResponseController(w).Flush()
	if req.ClientID != "" {
		s.hub.hold(req.ClientID) // before the deferred markAnswered lets the run go
	}
}

func (s *Server) getQueue(w http.ResponseWriter, r *http.Request) {
	// API-node credentials are stripped here too (ComfyUI 0.3.64 shows
	// them to every client; newer versions strip them).
	running := make([]api.QueueItem, 0, 1)
	for _, it := range s.q.Running() {
		running = append(running, withoutSecrets(it))
	}
	pend := s.q.Pending()
	pending := make([]api.QueueItem, len(pend))
	for i, it := range pend {
		pending[i] = withoutSecrets(it)
	}
	writeJSON(w, r, http.StatusOK, api.ObjectOf("queue_running", running, "queue_pending", pending))
}

// clearDelete reads {"clear": true, "delete": [ids]} bodies (POST /queue and
// POST /history).
func clearDelete(r *http.Request) (clear bool, ids []string, err error) {
	v, err := readJSON(r)
	if err != nil {
		return false, nil, err
	}
	o, ok := v.(*api.Object)
	if !ok {
		return false, nil, badRequest(api.ErrInvalidRequest, "body must be a JSON object")
	}
	if c, ok := o.Get("clear"); ok {
		clear = api.PyTruthy(c)
	}
	if d, ok := o.Get("delete"); ok {
		list, ok := d.([]any)
		if !ok {
			return false, nil, badRequest(api.ErrInvalidRequest, "delete must be a list of prompt ids")
		}
		for _, x := range list {
			ids = append(ids, api.PyStr(x))
		}
	}
	return clear, ids, nil
}

func (s *Server) postQueue(w http.ResponseWriter, r *http.Request) {
	clear, ids, err := clearDelete(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if clear {
		s.q.Clear()
		s.broadcastStatus()
	}
	for _, id := range ids {
		// ComfyUI deletes one id at a time, broadcasting status for each hit.
		if s.q.Delete([]string{id}) > 0 {
			s.broadcastStatus()
		}
	}
	writeEmpty(w, http.StatusOK)
}

// postInterrupt: no body, {} or bad JSON → interrupt whatever runs;
// {"prompt_id": X} → only if X is running.
func (s *Server) postInterrupt(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	target := ""
	if v, err := api.Decode(body); err == nil {
		if o, ok := v.(*api.Object); ok {
			if pid, ok := o.Get("prompt_id"); ok && pid != nil {
				target = api.PyStr(pid)
			}
		}
	}
	if s.interruptTaken(target) {
		// taken but not yet running: it stops at its first node
	} else if target == "" {
		s.exec.Interrupt("")
	} else {
		for _, it := range s.q.Running() {
			if it.PromptID == target {
				s.exec.Interrupt(target)
			}
		}
	}
	writeEmpty(w, http.StatusOK)
}

// postFree records unload_models / free_memory for the worker to apply
// after the running prompt, or right away when idle.
func (s *Server) postFree(w http.ResponseWriter, r *http.Request) {
	v, err := readJSON(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	o, _ := v.(*api.Object)
	um, _ := o.Get("unload_models")
	fm, _ := o.Get("free_memory")
	s.freeMu.Lock()
	if um == true {
		s.freeUnload = true
	}
	if fm == true {
		s.freeMemory = true
	}
	s.freeMu.Unlock()
	if len(s.q.Running()) == 0 {
		s.applyFree()
	}
	writeEmpty(w, http.StatusOK)
}

// parseIntParam parses a query parameter with Python's int(); absent → nil.
func parseIntParam(r *http.Request, name string) (*int, error) {
	q := query(r)
	if !q.Has(name) {
		return nil, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(q.Get(name)))
	if err != nil {
		return nil, badRequest(api.ErrInvalidRequest, fmt.Sprintf("%s: invalid literal for int() with base 10: '%s'", name, q.Get(name)))
	}
	return &n, nil
}

// getHistory writes the stored JSON of each entry as it is (no re-encoding).
func (s *Server) getHistory(w http.ResponseWriter, r *http.Request) {
	maxItems, err := parseIntParam(r, "max_items")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	offset, err := parseIntParam(r, "offset")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	recs := s.q.HistoryJSON(maxItems, offset)
	var b bytes.Buffer
	b.WriteByte('{')
	for i, rec := range recs {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(rec.PromptID)
		b.Write(k)
		b.WriteByte(':')
		b.Write(rec.JSON)
	}
	b.WriteByte('}')
	writeBytes(w, http.StatusOK, jsonType, b.Bytes())
}

func (s *Server) getHistoryItem(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("prompt_id")
	entry, ok := s.q.HistoryItemJSON(id)
	if !ok {
		writeBytes(w, http.StatusOK, jsonType, []byte("{}"))
		return
	}
	var b bytes.Buffer
	k, _ := json.Marshal(id)
	b.WriteByte('{')
	b.Write(k)
	b.WriteByte(':')
	b.Write(entry)
	b.WriteByte('}')
	writeBytes(w, http.StatusOK, jsonType, b.Bytes())
}

func (s *Server) postHistory(w http.ResponseWriter, r *http.Request) {
	clear, ids, err := clearDelete(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if clear {
		s.q.ClearHistory()
	}
	if len(ids) > 0 {
		s.q.DeleteHistory(ids)
	}
	writeEmpty(w, http.StatusOK)
}

// newUUID returns a random (version 4) UUID in canonical form.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

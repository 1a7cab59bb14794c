package api

import (
	"encoding/json"
)

// Prompt is the API-format graph: node id -> node, in the order the client
// wrote them (execution_cached lists nodes in this order).
type Prompt = Object

// PromptNode is one node of a prompt: {"class_type", "inputs", "_meta"}.
// It is read from a prompt's *Object value with PromptNodeOf.
type PromptNode struct {
	ClassType string
	Inputs    *Object
	Raw       *Object // the node object itself (validation writes back coerced inputs)
}

// PromptNodeOf reads node id from a prompt. ok is false if the value is not
// an object. ClassType is "" when absent or not a string.
func PromptNodeOf(p *Prompt, id string) (PromptNode, bool) {
	v, _ := p.Get(id)
	o, ok := v.(*Object)
	if !ok || o == nil {
		return PromptNode{}, false
	}
	n := PromptNode{Raw: o}
	if ct, ok := o.Get("class_type"); ok {
		n.ClassType, _ = ct.(string)
	}
	if in, ok := o.Get("inputs"); ok {
		n.Inputs, _ = in.(*Object)
	}
	if n.Inputs == nil {
		n.Inputs = NewObject()
		o.Set("inputs", n.Inputs)
	}
	return n, true
}

// Link is an input value that refers to another node's output:
// [source_node_id, output_index] on the wire.
type Link struct {
	Node  string
	Index int
}

// AsLink reports whether an input value is a link: a 2-element array whose
// first element is a string and second a number (ComfyUI accepts 1.0 too).
func AsLink(v any) (Link, bool) {
	a, ok := v.([]any)
	if !ok || len(a) != 2 {
		return Link{}, false
	}
	id, ok := a[0].(string)
	if !ok {
		return Link{}, false
	}
	switch n := a[1].(type) {
	case json.Number:
		i, err := n.Int64()
		if err != nil {
			return Link{}, false
		}
		return Link{id, int(i)}, true
	case Float:
		return Link{id, int(n)}, true
	}
	return Link{}, false
}

// MarshalJSON writes a link as ComfyUI does: ["id", 0].
func (l Link) MarshalJSON() ([]byte, error) {
	return Marshal([]any{l.Node, l.Index})
}

// PromptRequest is the body of POST /prompt after decoding. Number is nil
// when the client sent none.
type PromptRequest struct {
	Prompt                  any // must be *Object; anything else is a 400
	HasPrompt               bool
	ClientID                string
	ExtraData               *Object
	PromptID                *string
	Number                  *float64
	Front                   bool
	PartialExecutionTargets []string
	HasPartialTargets       bool
}

// PromptResponse is the 200 answer of POST /prompt. Number is an int when
// the server chose it and a float when the client sent one (ComfyUI echoes
// float(number)).
type PromptResponse struct {
	PromptID   string                `json:"prompt_id"`
	Number     any                   `json:"number"`
	NodeErrors map[string]*NodeError `json:"node_errors"`
}

// PromptErrorResponse is the 400 answer of POST /prompt.
type PromptErrorResponse struct {
	Error      Error                 `json:"error"`
	NodeErrors map[string]*NodeError `json:"node_errors"`
}

// QueueItem is [number, prompt_id, prompt, extra_data, outputs_to_execute].
type QueueItem struct {
	Number    any // json.Number (server counter) or Float (client-sent)
	PromptID  string
	Prompt    *Prompt
	ExtraData *Object
	Outputs   []string
}

// MarshalJSON writes the 5-tuple.
func (q QueueItem) MarshalJSON() ([]byte, error) { return q.appendJSON(nil) }

// UnmarshalJSON reads the 5-tuple (used by the durable store).
func (q *QueueItem) UnmarshalJSON(data []byte) error {
	v, err := Decode(data)
	if err != nil {
		return err
	}
	a, ok := v.([]any)
	if !ok || len(a) != 5 {
		return &json.UnmarshalTypeError{Value: "queue item", Type: nil}
	}
	q.Number = a[0]
	q.PromptID, _ = a[1].(string)
	q.Prompt, _ = a[2].(*Object)
	q.ExtraData, _ = a[3].(*Object)
	q.Outputs = nil
	if outs, ok := a[4].([]any); ok {
		for _, o := range outs {
			if s, ok := o.(string); ok {
				q.Outputs = append(q.Outputs, s)
			}
		}
	}
	return nil
}

// ClientID returns extra_data.client_id, or "".
func (q QueueItem) ClientID() string {
	v, _ := q.ExtraData.Get("client_id")
	s, _ := v.(string)
	return s
}

// StatusMessage is one [event, data] pair of a history entry's status.messages.
type StatusMessage struct {
	Event string
	Data  any
}

// MarshalJSON writes the pair as a 2-element array.
func (m StatusMessage) MarshalJSON() ([]byte, error) { return Marshal([]any{m.Event, m.Data}) }

// UnmarshalJSON reads the pair.
func (m *StatusMessage) UnmarshalJSON(data []byte) error {
	v, err := Decode(data)
	if err != nil {
		return err
	}
	a, ok := v.([]any)
	if !ok || len(a) != 2 {
		return &json.UnmarshalTypeError{Value: "status message", Type: nil}
	}
	m.Event, _ = a[0].(string)
	m.Data = a[1]
	return nil
}

// HistoryStatus is a history entry's status.
type HistoryStatus struct {
	StatusStr string          `json:"status_str"`
	Completed bool            `json:"completed"`
	Messages  []StatusMessage `json:"messages"`
}

// NodeMeta is history meta[id] and the UI cache's meta.
type NodeMeta struct {
	NodeID      string  `json:"node_id"`
	DisplayNode string  `json:"display_node"`
	ParentNode  *string `json:"parent_node"`
	RealNodeID  string  `json:"real_node_id"`
}

// HistoryEntry is one value of GET /history.
type HistoryEntry struct {
	Prompt  QueueItem           `json:"prompt"`
	Outputs *Object             `json:"outputs"` // node id -> UI object
	Status  HistoryStatus       `json:"status"`
	Meta    map[string]NodeMeta `json:"meta"`
}

// ImageRef is an image reference in UI outputs: {"filename", "subfolder", "type"}.
type ImageRef struct {
	Filename  string `json:"filename"`
	Subfolder string `json:"subfolder"`
	Type      string `json:"type"`
}

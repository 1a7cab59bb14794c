package api

import "encoding/binary"

// Message is the WebSocket envelope: {"type": ..., "data": ...}.
type Message struct {
	Type string `json:"type"`
	Data any    `json:"data"`
}

// Event types.
const (
	EventStatus               = "status"
	EventExecutionStart       = "execution_start"
	EventExecutionCached      = "execution_cached"
	EventExecuting            = "executing"
	EventProgress             = "progress"
	EventProgressState        = "progress_state"
	EventExecuted             = "executed"
	EventExecutionSuccess     = "execution_success"
	EventExecutionError       = "execution_error"
	EventExecutionInterrupted = "execution_interrupted"
	EventFeatureFlags         = "feature_flags"
	EventLogs                 = "logs"
)

// ExecInfo is {"queue_remaining": N}.
type ExecInfo struct {
	QueueRemaining int `json:"queue_remaining"`
}

// StatusData is the data of a status event; SID is set only in the greeting.
type StatusData struct {
	Status struct {
		ExecInfo ExecInfo `json:"exec_info"`
	} `json:"status"`
	SID string `json:"sid,omitempty"`
}

// NewStatus builds a status event's data.
func NewStatus(queueRemaining int, sid string) StatusData {
	var s StatusData
	s.Status.ExecInfo.QueueRemaining = queueRemaining
	s.SID = sid
	return s
}

// ExecutionStart is the data of execution_start and execution_success.
type ExecutionStart struct {
	PromptID  string `json:"prompt_id"`
	Timestamp int64  `json:"timestamp"`
}

// ExecutionSuccess has the same shape as ExecutionStart.
type ExecutionSuccess = ExecutionStart

// ExecutionCached is the data of execution_cached.
type ExecutionCached struct {
	Nodes     []string `json:"nodes"`
	PromptID  string   `json:"prompt_id"`
	Timestamp int64    `json:"timestamp"`
}

// Executing is the data of executing for a node.
type Executing struct {
	Node        string `json:"node"`
	DisplayNode string `json:"display_node"`
	PromptID    string `json:"prompt_id"`
}

// ExecutingDone is the final executing message: node null, no display_node.
type ExecutingDone struct {
	Node     *string `json:"node"`
	PromptID string  `json:"prompt_id"`
}

// Progress is the data of progress.
type Progress struct {
	Value    any    `json:"value"`
	Max      any    `json:"max"`
	PromptID string `json:"prompt_id"`
	Node     string `json:"node"`
}

// NodeProgress is one entry of progress_state.nodes.
type NodeProgress struct {
	Value         any     `json:"value"`
	Max           any     `json:"max"`
	State         string  `json:"state"` // "running" or "finished"
	NodeID        string  `json:"node_id"`
	PromptID      string  `json:"prompt_id"`
	DisplayNodeID string  `json:"display_node_id"`
	ParentNodeID  *string `json:"parent_node_id"`
	RealNodeID    string  `json:"real_node_id"`
}

// ProgressState is the data of progress_state; Nodes maps unique id -> *NodeProgress.
type ProgressState struct {
	PromptID string  `json:"prompt_id"`
	Nodes    *Object `json:"nodes"`
}

// Executed is the data of executed; Output is the UI object or nil.
type Executed struct {
	Node        string  `json:"node"`
	DisplayNode string  `json:"display_node"`
	Output      *Object `json:"output"`
	PromptID    string  `json:"prompt_id"`
}

// ExecutionError is the data of execution_error. CurrentInputs is an
// *Object normally and [] for a run-time dependency cycle.
type ExecutionError struct {
	PromptID         string   `json:"prompt_id"`
	NodeID           string   `json:"node_id"`
	NodeType         string   `json:"node_type"`
	Executed         []string `json:"executed"`
	ExceptionMessage string   `json:"exception_message"`
	ExceptionType    string   `json:"exception_type"`
	Traceback        []string `json:"traceback"`
	CurrentInputs    any      `json:"current_inputs"`
	CurrentOutputs   []string `json:"current_outputs"`
	Timestamp        int64    `json:"timestamp"`
}

// ExecutionInterrupted is the data of execution_interrupted.
type ExecutionInterrupted struct {
	PromptID  string   `json:"prompt_id"`
	NodeID    string   `json:"node_id"`
	NodeType  string   `json:"node_type"`
	Executed  []string `json:"executed"`
	Timestamp int64    `json:"timestamp"`
}

// FeatureFlags is the server's feature flags (GET /features and the
// feature_flags reply). MaxUploadSize is an int, or a Float when the flag
// was given on the command line (ComfyUI's argparse quirk).
type FeatureFlags struct {
	SupportsPreviewMetadata bool `json:"supports_preview_metadata"`
	MaxUploadSize           any  `json:"max_upload_size"`
}

// Binary frame event types (big-endian u32 at the start of a frame).
const (
	BinaryPreviewImage             = 1
	BinaryText                     = 3
	BinaryPreviewImageWithMetadata = 4

	ImageFormatJPEG = 1
	ImageFormatPNG  = 2
)

// PreviewFrame builds a type-1 frame: [1][format][image bytes].
func PreviewFrame(format uint32, img []byte) []byte {
	b := make([]byte, 8, 8+len(img))
	binary.BigEndian.PutUint32(b[0:], BinaryPreviewImage)
	binary.BigEndian.PutUint32(b[4:], format)
	return append(b, img...)
}

// PreviewMetadata is the JSON header of a type-4 frame, keys in ComfyUI's order.
type PreviewMetadata struct {
	NodeID        string  `json:"node_id"`
	PromptID      string  `json:"prompt_id"`
	DisplayNodeID string  `json:"display_node_id"`
	ParentNodeID  *string `json:"parent_node_id"`
	RealNodeID    string  `json:"real_node_id"`
	ImageType     string  `json:"image_type"`
}

// PreviewMetadataFrame builds a type-4 frame: [4][n][n bytes JSON][image bytes].
func PreviewMetadataFrame(meta PreviewMetadata, img []byte) []byte {
	mj := MustMarshal(meta)
	b := make([]byte, 8, 8+len(mj)+len(img))
	binary.BigEndian.PutUint32(b[0:], BinaryPreviewImageWithMetadata)
	binary.BigEndian.PutUint32(b[4:], uint32(len(mj)))
	b = append(b, mj...)
	return append(b, img...)
}

// TextFrame builds a type-3 frame: [3][k][k bytes node id][text].
func TextFrame(nodeID, text string) []byte {
	b := make([]byte, 8, 8+len(nodeID)+len(text))
	binary.BigEndian.PutUint32(b[0:], BinaryText)
	binary.BigEndian.PutUint32(b[4:], uint32(len(nodeID)))
	b = append(b, nodeID...)
	return append(b, text...)
}

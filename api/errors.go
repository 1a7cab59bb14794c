package api

// Error is ComfyUI's error object, used for the top-level "error" of a
// failed POST /prompt and for every entry of node_errors[id].errors.
// Key order matches ComfyUI's.
type Error struct {
	Type      string  `json:"type"`
	Message   string  `json:"message"`
	Details   string  `json:"details"`
	ExtraInfo *Object `json:"extra_info"`
}

// NodeError is one entry of a POST /prompt response's node_errors.
type NodeError struct {
	Errors           []Error  `json:"errors"`
	DependentOutputs []string `json:"dependent_outputs"`
	ClassType        string   `json:"class_type"`
}

// Error types and their fixed messages: wire constants, spelled as ComfyUI
// spells them.
const (
	ErrNoPrompt                  = "no_prompt"
	ErrInvalidPrompt             = "invalid_prompt"
	ErrPromptNoOutputs           = "prompt_no_outputs"
	ErrPromptOutputsFailed       = "prompt_outputs_failed_validation"
	ErrExceptionDuringValidation = "exception_during_validation"
	ErrRequiredInputMissing      = "required_input_missing"
	ErrBadLinkedInput            = "bad_linked_input"
	ErrReturnTypeMismatch        = "return_type_mismatch"
	ErrExceptionInnerValidation  = "exception_during_inner_validation"
	ErrInvalidInputType          = "invalid_input_type"
	ErrValueSmallerThanMin       = "value_smaller_than_min"
	ErrValueBiggerThanMax        = "value_bigger_than_max"
	ErrValueNotInList            = "value_not_in_list"
	ErrCustomValidationFailed    = "custom_validation_failed"
	ErrDependencyCycle           = "dependency_cycle"
	// ErrInvalidRequest is comfyd's: a body that is not JSON, or a prompt
	// that is not an object. ComfyUI answers those with a bare 500.
	ErrInvalidRequest = "invalid_request"

	MsgNoPrompt                  = "No prompt provided"
	MsgMissingClassType          = "Cannot execute because a node is missing the class_type property."
	MsgPromptNoOutputs           = "Prompt has no outputs"
	MsgPromptOutputsFailed       = "Prompt outputs failed validation"
	MsgExceptionDuringValidation = "Exception when validating node"
	MsgRequiredInputMissing      = "Required input is missing"
	MsgBadLinkedInput            = "Bad linked input, must be a length-2 list of [node_id, slot_index]"
	MsgReturnTypeMismatch        = "Return type mismatch between linked nodes"
	MsgExceptionInnerValidation  = "Exception when validating inner node"
	MsgValueNotInList            = "Value not in list"
	MsgCustomValidationFailed    = "Custom validation failed for node"
	MsgDependencyCycle           = "Dependency cycle detected"
)

// MsgUnknownClass is the message for a prompt node whose class_type is not registered.
func MsgUnknownClass(classType string) string {
	return "Cannot execute because node " + classType + " does not exist."
}

// NewError builds an Error; a nil extra becomes {}.
func NewError(typ, msg, details string, extra *Object) Error {
	if extra == nil {
		extra = NewObject()
	}
	return Error{Type: typ, Message: msg, Details: details, ExtraInfo: extra}
}

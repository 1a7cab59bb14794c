package queue

import (
	"errors"

	"github.com/comfyd/comfyd/api"
)

// decodeItem reads a stored queue item (the 5-tuple).
func decodeItem(b []byte) (api.QueueItem, error) {
	v, err := api.Decode(b)
	if err != nil {
		return api.QueueItem{}, err
	}
	return itemOf(v)
}

func itemOf(v any) (api.QueueItem, error) {
	a, ok := v.([]any)
	if !ok || len(a) != 5 {
		return api.QueueItem{}, errors.New("queue item is not a 5-element array")
	}
	it := api.QueueItem{Number: a[0]}
	it.PromptID, _ = a[1].(string)
	it.Prompt, _ = a[2].(*api.Object)
	it.ExtraData, _ = a[3].(*api.Object)
	if outs, ok := a[4].([]any); ok {
		it.Outputs = make([]string, 0, len(outs))
		for _, o := range outs {
			if s, ok := o.(string); ok {
				it.Outputs = append(it.Outputs, s)
			}
		}
	}
	if it.PromptID == "" {
		return it, errors.New("queue item without prompt_id")
	}
	return it, nil
}

// decodeEntry reads a stored history entry in one pass over the JSON (what
// json.Unmarshal into api.HistoryEntry gives, without its second scan).
func decodeEntry(b []byte) (api.HistoryEntry, error) {
	var e api.HistoryEntry
	v, err := api.Decode(b)
	if err != nil {
		return e, err
	}
	o, ok := v.(*api.Object)
	if !ok {
		return e, errors.New("history entry is not an object")
	}
	if p, ok := o.Get("prompt"); ok && p != nil {
		if e.Prompt, err = itemOf(p); err != nil {
			return e, err
		}
	}
	if x, ok := o.Get("outputs"); ok {
		e.Outputs, _ = x.(*api.Object)
	}
	if x, ok := o.Get("status"); ok {
		if st, ok := x.(*api.Object); ok {
			s, _ := st.Get("status_str")
			e.Status.StatusStr, _ = s.(string)
			c, _ := st.Get("completed")
			e.Status.Completed, _ = c.(bool)
			if ms, ok := st.Get("messages"); ok {
				if arr, ok := ms.([]any); ok {
					e.Status.Messages = make([]api.StatusMessage, 0, len(arr))
					for _, m := range arr {
						pair, ok := m.([]any)
						if !ok || len(pair) != 2 {
							return e, errors.New("status message is not a pair")
						}
						ev, _ := pair[0].(string)
						e.Status.Messages = append(e.Status.Messages, api.StatusMessage{Event: ev, Data: pair[1]})
					}
				}
			}
		}
	}
	if x, ok := o.Get("meta"); ok {
		if mo, ok := x.(*api.Object); ok {
			e.Meta = make(map[string]api.NodeMeta, mo.Len())
			for _, k := range mo.Keys() {
				mv, _ := mo.Get(k)
				m, _ := mv.(*api.Object)
				str := func(key string) string {
					s, _ := m.Get(key)
					r, _ := s.(string)
					return r
				}
				nm := api.NodeMeta{NodeID: str("node_id"), DisplayNode: str("display_node"), RealNodeID: str("real_node_id")}
				if p, ok := m.Get("parent_node"); ok {
					if s, ok := p.(string); ok {
						nm.ParentNode = &s
					}
				}
				e.Meta[k] = nm
			}
		}
	}
	return e, nil
}

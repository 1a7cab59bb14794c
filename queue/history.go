package queue

// window returns the [start, end) slice of a history of n entries that GET
// /history?max_items&offset selects, following ComfyUI's get_history:
//
//	offset absent (nil) counts as -1;
//	if offset < 0 and max_items is given: offset = n - max_items;
//	entries from index max(offset, 0) on, at most max_items of them.
//
// So: neither → all; max_items only → the last N; offset only → from K (a
// negative offset alone → all); both → up to N from K; offset ≥ n → none.
//
// One deliberate fix: ComfyUI checks the max_items bound only after adding an
// entry, so max_items ≤ 0 with an explicit offset ≥ 0 returns one entry; here
// max_items ≤ 0 always returns none.
func window(n int, maxItems, offset *int) (start, end int) {
	off := -1
	if offset != nil {
		off = *offset
	}
	if maxItems != nil && off < 0 {
		off = n - *maxItems
	}
	start = max(off, 0)
	if start >= n {
		return n, n
	}
	end = n
	if maxItems != nil {
		if *maxItems <= 0 {
			return start, start
		}
		if *maxItems < end-start {
			end = start + *maxItems
		}
	}
	return start, end
}

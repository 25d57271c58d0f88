package hook

// SetMaxSteps lowers a hook's step budget so that runaway-loop tests are quick.
func SetMaxSteps(h *Hook, n uint64) { h.maxSteps = n }

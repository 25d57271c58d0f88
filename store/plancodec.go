package store

import (
	"bytes"
	"compress/flate"
	"encoding/json"

	"github.com/usersync/usersync/core"
)

// planHead is a plan without its changes: its Changes field shadows the
// plan's and, empty, is left out.
type planHead struct {
	*core.Plan
	Changes []struct{} `json:"changes,omitempty"`
}

// deflatePlan encodes a plan as deflated JSON one change at a time. The
// changes of a million-user plan come to a hundred megabytes of JSON, which
// json.Marshal would build in one growing buffer at the moment the run's
// memory is at its highest. The document decodes to the same plan; only
// the order of its keys differs (changes first).
func deflatePlan(p *core.Plan) ([]byte, error) {
	head, err := json.Marshal(planHead{Plan: p})
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	w, err := flate.NewWriter(&out, flate.BestSpeed)
	if err != nil {
		return nil, err
	}
	w.Write([]byte(`{"changes":`))
	if p.Changes == nil {
		w.Write([]byte("null"))
	} else {
		w.Write([]byte("["))
		enc := json.NewEncoder(w)
		for i := range p.Changes {
			if i > 0 {
				w.Write([]byte(","))
			}
			if err := enc.Encode(&p.Changes[i]); err != nil {
				return nil, err
			}
		}
		w.Write([]byte("]"))
	}
	if len(head) > 2 {
		w.Write([]byte(","))
	}
	w.Write(head[1:])
	if err := w.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

package store

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/usersync/usersync/core"
)

// Snapshots are stored compactly: users in chunks of chunkSize, each chunk a
// deflated sequence of length-prefixed strings, with group names interned
// per chunk (a million users share a few dozen groups).

const chunkSize = 4096

type encoder struct {
	buf    bytes.Buffer
	tmp    [binary.MaxVarintLen64]byte
	groups map[string]uint64
	table  []string
	// head, out and fw are reused from chunk to chunk: a flate writer
	// allocates about a megabyte, and a million-user snapshot is 500
	// chunks.
	head *encoder
	out  bytes.Buffer
	fw   *flate.Writer
	// attrs is scratch space for a user's source attributes.
	attrs attrScratch
}

func newEncoder() *encoder { return &encoder{groups: map[string]uint64{}} }

func (e *encoder) reset() {
	e.buf.Reset()
	clear(e.groups)
	e.table = e.table[:0]
}

func (e *encoder) uvarint(v uint64) {
	n := binary.PutUvarint(e.tmp[:], v)
	e.buf.Write(e.tmp[:n])
}

func (e *encoder) str(s string) {
	e.uvarint(uint64(len(s)))
	e.buf.WriteString(s)
}

func (e *encoder) groupList(gs []string) {
	e.uvarint(uint64(len(gs)))
	for _, g := range gs {
		i, ok := e.groups[g]
		if !ok {
			i = uint64(len(e.table))
			e.groups[g] = i
			e.table = append(e.table, g)
		}
		e.uvarint(i)
	}
}

// finish returns the chunk: group table, then the records, deflated.
func (e *encoder) finish(n int) ([]byte, error) {
	if e.head == nil {
		e.head = &encoder{}
	}
	head := e.head
	head.buf.Reset()
	head.uvarint(uint64(n))
	head.uvarint(uint64(len(e.table)))
	for _, g := range e.table {
		head.str(g)
	}
	e.out.Reset()
	if e.fw == nil {
		w, err := flate.NewWriter(&e.out, flate.BestSpeed)
		if err != nil {
			return nil, err
		}
		e.fw = w
	} else {
		e.fw.Reset(&e.out)
	}
	e.fw.Write(head.buf.Bytes())
	e.fw.Write(e.buf.Bytes())
	if err := e.fw.Close(); err != nil {
		return nil, err
	}
	return bytes.Clone(e.out.Bytes()), nil
}

func (e *encoder) directoryUser(u *core.DirectoryUser) error {
	for _, s := range []string{string(u.Type), u.Username, u.Domain, u.Email, u.Firstname, u.Lastname, u.Country, u.Origin} {
		e.str(s)
	}
	e.groupList(u.Groups)
	e.groupList(u.MemberGroups)
	return e.attributes(u)
}

func (e *encoder) adobeUser(u *core.AdobeUser) {
	for _, s := range []string{string(u.Type), u.Username, u.Domain, u.Email, u.Firstname, u.Lastname, u.Country, u.Status} {
		e.str(s)
	}
	e.groupList(u.Groups)
}

type decoder struct {
	r     *bytes.Reader
	table []string
	err   error
}

var errCorrupt = errors.New("store: corrupt snapshot chunk")

func newDecoder(chunk []byte) (*decoder, int, error) {
	raw, err := io.ReadAll(flate.NewReader(bytes.NewReader(chunk)))
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %v", errCorrupt, err)
	}
	d := &decoder{r: bytes.NewReader(raw)}
	n := int(d.uvarint())
	t := int(d.uvarint())
	if d.err != nil || t > len(raw) || n > len(raw) {
		return nil, 0, errCorrupt
	}
	d.table = make([]string, t)
	for i := range d.table {
		d.table[i] = d.str()
	}
	return d, n, d.err
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, err := binary.ReadUvarint(d.r)
	if err != nil {
		d.err = errCorrupt
	}
	return v
}

func (d *decoder) str() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(d.r.Len()) {
		d.err = errCorrupt
		return ""
	}
	if n == 0 {
		return ""
	}
	b := make([]byte, n)
	io.ReadFull(d.r, b)
	return string(b)
}

func (d *decoder) groupList() []string {
	n := d.uvarint()
	if d.err != nil || n == 0 {
		return nil
	}
	if n > uint64(d.r.Len()) {
		d.err = errCorrupt
		return nil
	}
	gs := make([]string, n)
	for i := range gs {
		j := d.uvarint()
		if j >= uint64(len(d.table)) {
			d.err = errCorrupt
			return nil
		}
		gs[i] = d.table[j]
	}
	return gs
}

func (d *decoder) directoryUser(u *core.DirectoryUser) {
	u.Type = core.IdentityType(d.str())
	u.Username, u.Domain, u.Email = d.str(), d.str(), d.str()
	u.Firstname, u.Lastname, u.Country, u.Origin = d.str(), d.str(), d.str(), d.str()
	u.Groups = d.groupList()
	u.MemberGroups = d.groupList()
	if a := d.str(); a != "" && d.err == nil {
		m, err := decodeAttributes(a)
		if err != nil {
			d.err = err
		}
		u.Attributes = m
	}
}

func (d *decoder) adobeUser(u *core.AdobeUser) {
	u.Type = core.IdentityType(d.str())
	u.Username, u.Domain, u.Email = d.str(), d.str(), d.str()
	u.Firstname, u.Lastname, u.Country, u.Status = d.str(), d.str(), d.str(), d.str()
	u.Groups = d.groupList()
}

func inflateJSON(b []byte, v any) error {
	return json.NewDecoder(flate.NewReader(bytes.NewReader(b))).Decode(v)
}

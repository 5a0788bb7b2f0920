package handlers

import (
	"encoding/json"
	"errors"
	"slices"

	"github.com/gorilla/securecookie"

	"github.com/runoff-vote/runoff"
)

// cookieValues serialises the session cookies' values. gob, securecookie's
// default, sends its type descriptors with every cookie: under load the
// receipt and voted cookies written with each ballot cost about a fifth of
// the web's CPU, most of it in gob. The values Runoff keeps are strings,
// lists of strings and receipts, which JSON writes for a fraction of that.
// A JSON cookie starts with a zero byte, which no gob stream does (it
// starts with its length); cookies written by gob, before this or for a
// value of another type, are still read and written by gob.
type cookieValues struct{}

type cookieJSON struct {
	S map[string]string           `json:"s,omitempty"`
	L map[string][]string         `json:"l,omitempty"`
	R map[string][]pendingReceipt `json:"r,omitempty"`
}

var errNotValues = errors.New("cookie: not session values")

func (cookieValues) Serialize(src any) ([]byte, error) {
	values, ok := src.(map[any]any)
	if !ok {
		return securecookie.GobEncoder{}.Serialize(src)
	}
	// The keys of each kind, in order, as json.Marshal writes a map's.
	var ss, ls, rs []string
	for k, v := range values {
		key, ok := k.(string)
		if !ok {
			return securecookie.GobEncoder{}.Serialize(src)
		}
		switch v.(type) {
		case string:
			ss = append(ss, key)
		case []string:
			ls = append(ls, key)
		case []pendingReceipt:
			rs = append(rs, key)
		default:
			return securecookie.GobEncoder{}.Serialize(src)
		}
	}
	// Written by hand rather than through cookieJSON and json.Marshal:
	// every ballot writes two cookies, and this is the same JSON
	// (TestCookieValuesWritesWhatJSONWould) for a fraction of the
	// allocations.
	b := make([]byte, 1, 256)
	b = append(b, '{')
	first := true
	section := func(name string, keys []string, value func(k string)) {
		if len(keys) == 0 {
			return
		}
		slices.Sort(keys)
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, `":{`...)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = runoff.AppendJSONString(b, k)
			b = append(b, ':')
			value(k)
		}
		b = append(b, '}')
	}
	section("s", ss, func(k string) { b = runoff.AppendJSONString(b, values[k].(string)) })
	section("l", ls, func(k string) { b = appendJSONStrings(b, values[k].([]string)) })
	section("r", rs, func(k string) {
		list := values[k].([]pendingReceipt)
		if list == nil {
			b = append(b, "null"...)
			return
		}
		b = append(b, '[')
		for i, p := range list {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"BallotID":`...)
			b = runoff.AppendJSONString(b, p.BallotID)
			b = append(b, `,"ElectionID":`...)
			b = runoff.AppendJSONString(b, p.ElectionID)
			b = append(b, `,"ElectionTitle":`...)
			b = runoff.AppendJSONString(b, p.ElectionTitle)
			b = append(b, `,"Ranking":`...)
			b = appendJSONStrings(b, p.Ranking)
			b = append(b, '}')
		}
		b = append(b, ']')
	})
	return append(b, '}'), nil
}

// appendJSONStrings writes a list of strings as json.Marshal does (null
// for nil).
func appendJSONStrings(b []byte, list []string) []byte {
	if list == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = runoff.AppendJSONString(b, s)
	}
	return append(b, ']')
}

func (cookieValues) Deserialize(src []byte, dst any) error {
	if len(src) == 0 || src[0] != 0 {
		return securecookie.GobEncoder{}.Deserialize(src, dst)
	}
	values, ok := dst.(*map[any]any)
	if !ok {
		return errNotValues
	}
	var c cookieJSON
	if err := json.Unmarshal(src[1:], &c); err != nil {
		return err
	}
	if *values == nil {
		*values = map[any]any{}
	}
	for k, v := range c.S {
		(*values)[k] = v
	}
	for k, v := range c.L {
		(*values)[k] = v
	}
	for k, v := range c.R {
		(*values)[k] = v
	}
	return nil
}

package handlers

import (
	"encoding/json"
	"errors"

	"github.com/gorilla/securecookie"
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
	var c cookieJSON
	for k, v := range values {
		key, ok := k.(string)
		if !ok {
			return securecookie.GobEncoder{}.Serialize(src)
		}
		switch v := v.(type) {
		case string:
			if c.S == nil {
				c.S = map[string]string{}
			}
			c.S[key] = v
		case []string:
			if c.L == nil {
				c.L = map[string][]string{}
			}
			c.L[key] = v
		case []pendingReceipt:
			if c.R == nil {
				c.R = map[string][]pendingReceipt{}
			}
			c.R[key] = v
		default:
			return securecookie.GobEncoder{}.Serialize(src)
		}
	}
	b, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	return append([]byte{0}, b...), nil
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

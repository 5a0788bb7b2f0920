package runoff

import (
	"bytes"
	"encoding/json"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// AppendJSON appends the ballot's message, exactly as json.Marshal writes
// it (TestVoteSubmitAppendJSON checks byte for byte). Every ballot is
// encoded once in the web; done by reflection, with each UUID allocated as
// text on its way, it was a twentieth of the web's CPU under load.
func (v VoteSubmit) AppendJSON(b []byte) []byte {
	b = append(b, `{"ballot_id":"`...)
	b = appendUUID(b, v.BallotID)
	b = append(b, `","election_id":"`...)
	b = appendUUID(b, v.ElectionID)
	b = append(b, `","ranking":`...)
	if v.Ranking == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, id := range v.Ranking {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '"')
			b = appendUUID(b, id)
			b = append(b, '"')
		}
		b = append(b, ']')
	}
	b = append(b, `,"submitted_at":`...)
	b = append(b, '"')
	b = v.SubmittedAt.AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	if v.KeyHash != "" {
		b = append(b, `,"key_hash":`...)
		b = AppendJSONString(b, v.KeyHash)
	}
	return append(b, '}')
}

func appendUUID(b []byte, id [16]byte) []byte {
	const hex = "0123456789abcdef"
	for i, c := range id {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, hex[c>>4], hex[c&0xf])
	}
	return b
}

// AppendJSONString writes s as encoding/json does, escaping <, > and & too;
// anything unusual (control characters, invalid UTF-8, U+2028) goes
// through encoding/json itself.
func AppendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// UnmarshalJSON reads a ballot's message. What AppendJSON writes (every
// ballot the web sends) is read directly; anything else, from whatever
// sent it, is read by encoding/json as it would read it without this
// method (TestVoteSubmitUnmarshalJSON compares the two), so no message
// reads differently. The worker decodes every ballot: by reflection, that
// was an eighth of its CPU under load.
func (v *VoteSubmit) UnmarshalJSON(b []byte) error {
	if fast, ok := parseVoteSubmit(b); ok {
		*v = fast
		return nil
	}
	type plain VoteSubmit // the same fields, without this method
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*v = VoteSubmit(p)
	return nil
}

// parseVoteSubmit reads exactly AppendJSON's layout, or reports !ok.
func parseVoteSubmit(b []byte) (v VoteSubmit, ok bool) {
	lit := func(s string) bool {
		if len(b) < len(s) || string(b[:len(s)]) != s {
			return false
		}
		b = b[len(s):]
		return true
	}
	id := func(dst *uuid.UUID) bool {
		if len(b) < 36 {
			return false
		}
		u, err := uuid.ParseBytes(b[:36])
		if err != nil {
			return false
		}
		*dst, b = u, b[36:]
		return true
	}
	// str reads a string up to its closing quote, when it holds no escape.
	str := func() (string, bool) {
		i := bytes.IndexByte(b, '"')
		if i < 0 || !utf8.Valid(b[:i]) {
			return "", false
		}
		for _, c := range b[:i] {
			if c < 0x20 || c == '\\' {
				return "", false
			}
		}
		s := string(b[:i])
		b = b[i+1:]
		return s, true
	}
	if !lit(`{"ballot_id":"`) || !id(&v.BallotID) || !lit(`","election_id":"`) || !id(&v.ElectionID) || !lit(`","ranking":`) {
		return v, false
	}
	if !lit("null") {
		if !lit("[") {
			return v, false
		}
		v.Ranking = []uuid.UUID{}
		for !lit("]") {
			if len(v.Ranking) > 0 && !lit(",") {
				return v, false
			}
			var c uuid.UUID
			if !lit(`"`) || !id(&c) || !lit(`"`) {
				return v, false
			}
			v.Ranking = append(v.Ranking, c)
		}
	}
	if !lit(`,"submitted_at":"`) {
		return v, false
	}
	at, ok := str()
	if !ok {
		return v, false
	}
	// As encoding/json reads a time.
	if v.SubmittedAt.UnmarshalText([]byte(at)) != nil {
		return v, false
	}
	if lit(`,"key_hash":"`) {
		if v.KeyHash, ok = str(); !ok {
			return v, false
		}
	}
	return v, lit("}") && len(b) == 0
}

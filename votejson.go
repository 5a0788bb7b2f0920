package runoff

import (
	"encoding/json"
	"time"
	"unicode/utf8"
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

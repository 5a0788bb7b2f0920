package handlers

import (
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/google/uuid"
	qr "github.com/piglig/go-qr"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/views"
)

// VoterKeys reads an election's voter keys: the web derives each key again
// from its batch and index to print it, and checks a voter's key by its
// hash before showing the ballot.
type VoterKeys interface {
	IssuedKeys(ctx context.Context, electionID uuid.UUID) ([]runoff.IssuedKey, error)
	KeyUse(ctx context.Context, electionID uuid.UUID, hash string) (runoff.KeyUse, error)
}

// errNoKeysSecret is a web process without a secret to derive keys from.
var errNoKeysSecret = problem(runoff.ErrUnavailable, "Voter keys cannot be made or printed here: this Runoff has no KEYS_SECRET configured.")

// handleKeysIssue makes a batch of keys — a number, or one per voter
// listed — and publishes only their hashes (election.keys). The batch's
// ID is made when the form is shown, so sending the form twice issues it
// once.
func (s *Server) handleKeysIssue(w http.ResponseWriter, r *http.Request) error {
	e, err := s.ownElection(r)
	if err != nil {
		return err
	}
	if err := s.parseForm(w, r); err != nil {
		return err
	}
	if len(s.KeysSecret) == 0 {
		return errNoKeysSecret
	}
	count := strings.TrimSpace(r.PostFormValue("count"))
	voters := runoff.SplitVoters(strings.ReplaceAll(r.PostFormValue("voters"), "\r\n", "\n"))
	m := runoff.ElectionKeys{ChangeID: formID(r, "batch_id"), ElectionID: e.ID, OrganizerID: organizerID(r.Context()),
		Labels: voters, RequestedAt: time.Now().UTC()}
	form := func(err error, retry string) error {
		return &formError{err: err, retry: retry, page: func(msg string) templ.Component {
			v, verr := s.electionAdmin(r, e)
			if verr != nil {
				s.Log.Warn("admin page", "err", verr)
			}
			v.Keys.Error, v.Keys.Count, v.Keys.Voters, v.Keys.BatchID = msg, count, strings.Join(voters, "\n"), m.ChangeID.String()
			if !v.Keys.On {
				v.ChangeRefused = msg // an open-link election has no keys section
			}
			return views.ElectionAdminPage(s.page(r, e.Title), v)
		}}
	}
	n := len(voters)
	switch {
	case count != "" && n > 0:
		return form(runoff.Invalid("Enter a number of keys or a list of voters, not both.", nil), "")
	case n == 0 && count == "":
		return form(runoff.Invalid("Enter how many keys to make, or list the voters one per line.", nil), "")
	case n == 0:
		if n, err = strconv.Atoi(count); err != nil || n < 1 || n > runoff.MaxKeysPerBatch {
			return form(runoff.Invalid(fmt.Sprintf("Enter a number of keys between 1 and %d.", runoff.MaxKeysPerBatch), nil), "")
		}
	}
	for i := range n {
		m.Hashes = append(m.Hashes, runoff.HashKey(e.ID, runoff.DeriveKey(s.KeysSecret, e.ID, m.ChangeID, i)))
	}
	if refused := runoff.DecideKeys(e, m); refused != "" {
		return form(runoff.Invalid(refused, nil), "")
	}
	body, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if err := s.Publisher.Publish(r.Context(), runoff.KeyElectionKeys, m.ChangeID.String(), body); err != nil {
		return form(err, "Runoff couldn't confirm that your keys were received. Please send the form again in a moment; the same keys are issued once.")
	}
	http.Redirect(w, r, "/admin/elections/"+e.ID.String()+"?change="+m.ChangeID.String()+"#keys", http.StatusSeeOther)
	return nil
}

// printedKey is a key derived again, with where it leads.
type printedKey struct {
	runoff.IssuedKey
	Key  string
	Link string
}

// derivedKeys derives an election's issued keys again, checking each
// against its stored hash: keys made with another KEYS_SECRET cannot be
// printed again, and must not be printed wrong.
func (s *Server) derivedKeys(r *http.Request, e *runoff.Election) ([]printedKey, error) {
	if len(s.KeysSecret) == 0 {
		return nil, errNoKeysSecret
	}
	issued, err := s.Elections.IssuedKeys(r.Context(), e.ID)
	if err != nil {
		return nil, err
	}
	out := make([]printedKey, len(issued))
	for i, k := range issued {
		key := runoff.DeriveKey(s.KeysSecret, e.ID, k.Batch, k.Index)
		if runoff.HashKey(e.ID, key) != k.Hash {
			return nil, &runoff.Problem{Kind: errKeysSecretChanged, Message: "These keys were made with a different KEYS_SECRET from the one this server has, so they cannot be printed again. " +
				"The keys already handed out still work; restore the earlier KEYS_SECRET to print them."}
		}
		out[i] = printedKey{IssuedKey: k, Key: key, Link: keyLink(r, e.ID, key)}
	}
	return out, nil
}

var errKeysSecretChanged = fmt.Errorf("keys secret changed")

func keyLink(r *http.Request, election uuid.UUID, key string) string {
	return absURL(r, "/e/"+election.String()+"?key="+url.QueryEscape(key))
}

// handleKeysCSV downloads the keys, one row each: number, voter, key and
// the ballot link that carries it.
func (s *Server) handleKeysCSV(w http.ResponseWriter, r *http.Request) error {
	e, err := s.ownElection(r)
	if err != nil {
		return err
	}
	keys, err := s.derivedKeys(r, e)
	if err != nil {
		return err
	}
	attachment(w, "text/csv; charset=utf-8", "voter-keys-"+e.ID.String()+".csv")
	cw := csv.NewWriter(w)
	cw.Write([]string{"number", "voter", "key", "ballot link"})
	for i, k := range keys {
		cw.Write([]string{strconv.Itoa(i + 1), csvSafe(k.Label), csvSafe(k.Key), csvSafe(k.Link)})
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe keeps a spreadsheet from reading a cell as a formula: one that
// starts with = + - @, a tab or a carriage return gets a leading
// apostrophe, which spreadsheets show as text (and runoff tabulate and
// the paper-ballot import read back without it).
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// handleKeysPrint is a sheet to print and cut: per key, the election, the
// link, the key and a QR code of the link with the key.
func (s *Server) handleKeysPrint(w http.ResponseWriter, r *http.Request) error {
	e, err := s.ownElection(r)
	if err != nil {
		return err
	}
	keys, err := s.derivedKeys(r, e)
	if err != nil {
		return err
	}
	sheet := views.KeysSheet{ElectionID: e.ID.String(), Title: e.Title, BallotURL: absURL(r, "/e/"+e.ID.String())}
	for i, k := range keys {
		img, err := qrDataURL(k.Link)
		if err != nil {
			return err
		}
		sheet.Cards = append(sheet.Cards, views.KeyCard{Number: i + 1, Voter: k.Label, Key: k.Key, Link: k.Link, QR: img})
	}
	s.render(w, r, http.StatusOK, views.KeysPrint(s.page(r, "Voter keys: "+e.Title), sheet))
	return nil
}

// qrDataURL draws a QR code of text as an SVG data: URL, which the site's
// Content-Security-Policy allows as an image.
func qrDataURL(text string) (string, error) {
	code, err := qr.EncodeText(text, qr.Medium)
	if err != nil {
		return "", fmt.Errorf("qr code: %w", err)
	}
	svg, err := code.ToSVGBytes(qr.NewQrCodeImgConfig(4, 4, qr.WithOptimalSVG()))
	if err != nil {
		return "", fmt.Errorf("qr code: %w", err)
	}
	return "data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString(svg), nil
}

// keysAdmin fills the admin page's voter-keys section.
func (s *Server) keysAdmin(v *views.ElectionAdmin, e *runoff.Election) {
	v.Keys = views.KeysSection{On: e.Access == runoff.AccessKeys, Changes: e.Changes == runoff.ChangesAllowed,
		Issued: e.KeysIssued, Used: e.KeysUsed, BatchID: uuid.Must(uuid.NewV7()).String(), Ready: len(s.KeysSecret) > 0,
		Closed: e.StateAt(time.Now()) == runoff.StatusClosed, Mail: s.MailEnabled}
}

// ballotKey is the key a voter came with, checked: for an election that
// takes keys, what the ballot page should say instead of the ballot, if
// anything.
func (s *Server) ballotKey(ctx context.Context, e *runoff.Election, key string) (hash string, use runoff.KeyUse, problem string, err error) {
	if strings.TrimSpace(key) == "" {
		return "", use, "", nil
	}
	hash = runoff.HashKey(e.ID, key)
	if hash != "" {
		if use, err = s.Elections.KeyUse(ctx, e.ID, hash); err != nil {
			return "", use, "", err
		}
	}
	switch {
	case hash == "" || !use.Issued:
		return "", use, "This is not one of this election's voter keys. Check it against the one you were given: 16 letters and digits, like ABCD-EFGH-JKLM-NPQR.", nil
	case use.Used && e.Changes != runoff.ChangesAllowed:
		return hash, use, "A ballot has already been counted with this voter key, and each key casts one ballot. If you sent yours and then saw an error, it did arrive: it is that ballot that counts.", nil
	}
	return hash, use, "", nil
}

// problem403 is a voter key that does not open the ballot.
func problem403(msg string) error { return problem(runoff.ErrForbidden, msg) }

package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/runoff-vote/runoff"
	"github.com/runoff-vote/runoff/store"
)

// runAdmin carries out an operator's task. reset-link prints a one-time
// link for an organizer to set a new password, for a site without email.
func runAdmin(ctx context.Context, cfg config, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "reset-link" {
		return fmt.Errorf("admin: want: runoff admin reset-link EMAIL [--base https://your.site]")
	}
	fs := flag.NewFlagSet("admin reset-link", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	base := fs.String("base", "", "the site's address, to print a whole link")
	var email string
	rest := args[1:]
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		email, rest = rest[0], rest[1:]
	}
	if err := fs.Parse(rest); err != nil || email == "" || fs.NArg() > 0 {
		return fmt.Errorf("admin: want: runoff admin reset-link EMAIL [--base https://your.site]")
	}
	normalized, err := runoff.NormalizeEmail(email)
	if err != nil {
		return fmt.Errorf("admin: %q is not an email address", email)
	}
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("admin: %w", err)
	}
	defer db.Close()
	o, err := db.OrganizerByEmail(ctx, normalized)
	if errors.Is(err, runoff.ErrNotFound) {
		return fmt.Errorf("admin: no organizer account with the email %s", normalized)
	} else if err != nil {
		return fmt.Errorf("admin: %w", err)
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return err
	}
	token := base64.RawURLEncoding.EncodeToString(b[:])
	if err := db.CreateResetToken(ctx, runoff.ResetTokenHash(token), o.ID, time.Now().Add(runoff.ResetLinkLife)); err != nil {
		return fmt.Errorf("admin: %w", err)
	}
	fmt.Fprintf(stdout, "%s/reset/%s\n", strings.TrimRight(*base, "/"), token)
	fmt.Fprintf(stdout, "(works once, for an hour; give it to %s by a channel you trust)\n", o.Email)
	return nil
}

package rcv

import (
	"encoding/xml"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// readHart reads a folder of Hart per-ballot XML files as RCTab's
// HartCvrReader: every *.xml file but signatures (*.sig.xml), each contest
// with the configured Id one ballot, an option's Value a string of 0/1 by
// rank, option Ids resolved through the config's aliases.
func readHart(b *cvrBuilder, src *CVRSource) error {
	entries, err := fs.ReadDir(src.fsys, src.name)
	if err != nil {
		return err
	}
	type option struct {
		Name  string
		ID    string `xml:"Id"`
		Value string
	}
	type contest struct {
		ID      string   `xml:"Id"`
		Options []option `xml:"Options>Option"`
	}
	var doc struct {
		Contests []contest `xml:"Contests>Contest"`
	}
	records := 0
	for _, e := range entries {
		lower := strings.ToLower(e.Name())
		if e.IsDir() || !strings.HasSuffix(lower, "xml") || strings.HasSuffix(lower, ".sig.xml") {
			continue
		}
		data, err := fs.ReadFile(src.fsys, path.Join(src.name, e.Name()))
		if err != nil {
			return err
		}
		doc.Contests = nil
		if err := xml.Unmarshal(data, &doc); err != nil {
			return fmt.Errorf("%s: %w", e.Name(), err)
		}
		name := e.Name()
		where := func() string { return name }
		for _, c := range doc.Contests {
			if strings.TrimSpace(c.ID) != src.ContestID {
				continue
			}
			for _, o := range c.Options {
				code := strings.TrimSpace(o.ID)
				value := strings.TrimSpace(o.Value)
				for i := 0; i < len(value); i++ {
					if value[i] != '1' {
						continue
					}
					if code != "" && code == src.UndeclaredWriteInLabel {
						b.addWriteIn(i+1, where)
					} else {
						b.addName(i+1, code, where)
					}
				}
			}
			if err := b.endRecord(b.maxRankAllowed(), where); err != nil {
				return err
			}
			records++
		}
	}
	if records == 0 {
		return errNoRecords
	}
	return nil
}

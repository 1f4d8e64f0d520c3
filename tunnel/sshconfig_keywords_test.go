package tunnel_test

import (
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/rpcssh/rpcssh/tunnel"
)

// TestREADMEKeywordTable keeps the README's ssh_config keyword table in
// step with Keywords: every supported keyword has its row, and the
// ignored ones are listed exactly.
func TestREADMEKeywordTable(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Skip("README not found")
	}
	readme := string(b)
	start, end := strings.Index(readme, "<!-- ssh-keywords:begin -->"), strings.Index(readme, "<!-- ssh-keywords:end -->")
	if start < 0 || end < start {
		t.Fatal("README lacks the ssh-keywords table markers")
	}
	table := readme[start:end]
	rowKeywords := map[string]string{} // lower-case keyword -> row
	var ignoredRow string
	for _, line := range strings.Split(table, "\n") {
		if !strings.HasPrefix(line, "| ") {
			continue
		}
		cells := strings.SplitN(line, "|", 4)
		if len(cells) < 3 {
			continue
		}
		if strings.Contains(cells[2], "ignored: read and checked") {
			ignoredRow = cells[1]
			continue
		}
		for _, m := range regexp.MustCompile("`([A-Za-z0-9]+)`").FindAllStringSubmatch(cells[1], -1) {
			rowKeywords[strings.ToLower(m[1])] = cells[2]
		}
	}
	var ignored []string
	for k, st := range tunnel.Keywords() {
		switch st {
		case tunnel.KeywordSupported:
			if row, ok := rowKeywords[k]; !ok || !strings.Contains(row, "supported") {
				t.Errorf("supported keyword %q has no supported row in the README table", k)
			}
		case tunnel.KeywordIgnored:
			if _, ok := rowKeywords[k]; !ok {
				ignored = append(ignored, k)
			}
		}
	}
	sort.Strings(ignored)
	want := "`" + strings.Join(ignored, "`, `") + "`"
	if strings.TrimSpace(ignoredRow) != want {
		t.Errorf("README ignored-keywords row =\n%s\nwant\n%s", strings.TrimSpace(ignoredRow), want)
	}
}

package program_test

import (
	"strings"
	"testing"
)

// TestMethodHelpWritesNumbersAsInTheFile: bounds as written in the methods
// file (max 1000000, not 1e+06), numeric defaults unquoted, text quoted.
func TestMethodHelpWritesNumbersAsInTheFile(t *testing.T) {
	t.Parallel()
	s := startHost(t, `
[[method]]
name = "sim"
argv = ["/bin/echo", "{steps}", "{scale}", "{mode}", "{on}"]
[[method.param]]
name = "steps"
type = "int"
min = 1
max = 1_000_000
default = 2
[[method.param]]
name = "scale"
type = "double"
min = 0.25
max = 1e21
default = 0.5
[[method.param]]
name = "mode"
type = "string"
default = "fast"
[[method.param]]
name = "on"
type = "boolean"
default = true
`, "")
	help, err := s.call(t, "system.methodHelp", "sim")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"steps int (min 1; max 1000000; default 2)",
		"scale double (min 0.25; max 1000000000000000000000; default 0.5)",
		`mode string (default "fast")`,
		"on boolean (default true)",
	} {
		if !strings.Contains(help.(string), want) {
			t.Errorf("methodHelp lacks %q:\n%s", want, help)
		}
	}
	_, err = s.call(t, "sim", 2000000)
	if err == nil || !strings.Contains(err.Error(), "above the maximum 1000000") {
		t.Errorf("sim(2000000) = %v, want a fault naming the maximum 1000000", err)
	}
}

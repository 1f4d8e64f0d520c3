package racetest

import (
	"os"
	"testing"
)

func TestNoExitSleep(t *testing.T) {
	tests := []struct {
		name  string
		set   bool
		value string
		want  string
	}{
		{"unset", false, "", "atexit_sleep_ms=0"},
		{"other options kept", true, "halt_on_error=1 log_path=/tmp/r", "halt_on_error=1 log_path=/tmp/r atexit_sleep_ms=0"},
		{"the user's own sleep wins", true, "atexit_sleep_ms=50", "atexit_sleep_ms=50"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("GORACE", tt.value)
			if !tt.set {
				os.Unsetenv("GORACE")
			}
			if err := NoExitSleep(); err != nil {
				t.Fatal(err)
			}
			if got := os.Getenv("GORACE"); got != tt.want {
				t.Errorf("GORACE = %q, want %q", got, tt.want)
			}
		})
	}
}

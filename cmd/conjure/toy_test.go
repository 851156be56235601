package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = dispatch(args, &out, &errb)
	return code, out.String(), errb.String()
}

func writeProblem(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "problem.json")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// T-B of ALGORITHM.md §6.6 through the command line, λ = 0.3, w = 2, N = 10.
func TestToyCommandTB(t *testing.T) {
	p := writeProblem(t, `{"method": "cpigdm", "H": [[1,1,0,0],[0,1,-1,0.5]], "mean": [0.1,-0.2,0.3,0],
	 "cov": [[1,0.3,0,0],[0.3,0.8,0.1,0],[0,0.1,0.5,0.2],[0,0,0.2,1.2]], "y": [0.7,-0.4], "z": [0.5,-0.5,1.0,-1.5],
	 "lambda": 0.3, "w": 2.0, "steps": 10, "tau0": 0.4, "tau_end": 0.001, "sigma_y": 0.0}`)
	code, stdout, stderr := runCLI(t, "toy", "--problem", p)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var got struct{ X []float64 }
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("output %q: %v", stdout, err)
	}
	want := []float64{0.6721639, -0.141922, 0.65465957, -1.25902341}
	for i := range want {
		if math.Abs(got.X[i]-want[i]) > 1e-7 {
			t.Errorf("x[%d] = %v, want %v", i, got.X[i], want[i])
		}
	}
}

func TestToyCommandRejectsBadInput(t *testing.T) {
	const base = `"H": [[1,0],[0,1]], "mean": [0,0], "cov": [[1,0],[0,1]], "y": [0.1,0.2], "z": [0.3,-0.4]`
	cases := map[string]string{
		"malformed JSON":    `{"method": "cpigdm", ` + base,
		"trailing data":     `{"method": "cpigdm", ` + base + `} {}`,
		"unknown field":     `{"method": "cpigdm", "omega": 1, ` + base + `}`,
		"unknown method":    `{"method": "heun", ` + base + `}`,
		"missing method":    `{` + base + `}`,
		"H columns vs mean": `{"method": "cpigdm", "H": [[1,0,0]], "mean": [0,0], "cov": [[1,0],[0,1]], "y": [0.1], "z": [0.3,-0.4]}`,
		"y length":          `{"method": "cpigdm", "H": [[1,0]], "mean": [0,0], "cov": [[1,0],[0,1]], "y": [0.1,0.2], "z": [0.3,-0.4]}`,
		"z length":          `{"method": "cpigdm", "H": [[1,0]], "mean": [0,0], "cov": [[1,0],[0,1]], "y": [0.1], "z": [0.3]}`,
		"cov not symmetric": `{"method": "cpigdm", "H": [[1,0]], "mean": [0,0], "cov": [[1,0.5],[0,1]], "y": [0.1], "z": [0.3,-0.4]}`,
		"cov not definite":  `{"method": "cpigdm", "H": [[1,0]], "mean": [0,0], "cov": [[1,2],[2,1]], "y": [0.1], "z": [0.3,-0.4]}`,
		"cov wrong size":    `{"method": "cpigdm", "H": [[1,0]], "mean": [0,0], "cov": [[1]], "y": [0.1], "z": [0.3,-0.4]}`,
		"steps zero":        `{"method": "cpigdm", "steps": 0, ` + base + `}`,
		"negative sigma_y":  `{"method": "cpigdm", "sigma_y": -1, ` + base + `}`,
		"ragged H":          `{"method": "cpigdm", "H": [[1,0],[1]], "mean": [0,0], "cov": [[1,0],[0,1]], "y": [0.1,0.2], "z": [0.3,-0.4]}`,
	}
	for name, body := range cases {
		code, stdout, stderr := runCLI(t, "toy", "--problem", writeProblem(t, body))
		if code != 2 || stdout != "" || strings.Count(strings.TrimSpace(stderr), "\n") != 0 || stderr == "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 2 and one line on stderr", name, code, stdout, stderr)
		}
	}
	for _, args := range [][]string{{"toy"}, {"toy", "--problem", "/nonexistent.json"}, {"toy", "--bogus"}, {"nosuch"}} {
		if code, _, stderr := runCLI(t, args...); code != 2 || stderr == "" {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 with a message", args, code, stderr)
		}
	}
}

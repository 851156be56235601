package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"conjure/eval"
	"conjure/imaging"
	"conjure/restore"
	"conjure/sampler"
)

// eval and sweep end to end on a tiny model: reports, montages, the
// spliced document and the merged presets file.
func TestEvalAndSweepCommands(t *testing.T) {
	mdl := writeTinyModel(t)
	data := t.TempDir()
	for _, n := range []string{"a.png", "b.png", "c.png"} {
		writePNG(t, data, n, 20+len(n), 18, false)
	}
	out := t.TempDir()
	doc := filepath.Join(out, "EVAL.md")
	if err := os.WriteFile(doc, []byte("# E\n<!-- begin claim -->\n<!-- end claim -->\n<!-- begin sweep -->\n<!-- end sweep -->\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, "eval", "--model", mdl, "--data", data, "--skip", "1", "--tasks", "sr4,inpaint-box", "--methods", "cpigdm,pinv,bicubic",
		"--steps", "1", "--out", out, "--splice", doc, "--region", "claim")
	if code != 0 {
		t.Fatalf("eval: exit %d: %s", code, stderr)
	}
	for _, f := range []string{"report.md", "sr4.png", "inpaint-box.png"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	got, _ := os.ReadFile(doc)
	if !strings.Contains(string(got), "### sr4\n") || !strings.Contains(string(got), "(2 images)") || strings.Contains(string(got), "# Evaluation") {
		t.Errorf("spliced document:\n%s", got)
	}

	presets := filepath.Join(t.TempDir(), "presets.json")
	keep := restore.Library{}
	keep.Merge(restore.PriorFace, restore.Presets{sampler.CPiGDM: {restore.Key(restore.Gray): {5: {W: 2, Tau0: 0.5}}}})
	keep.Merge(restore.PriorPhoto, restore.Presets{sampler.CPiGDM: {restore.Key(restore.SR4): {1: {W: 9, Tau0: 0.9}}}})
	f, _ := os.Create(presets)
	keep.WriteTo(f)
	f.Close()
	code, _, stderr = runCLI(t, "sweep", "--model", mdl, "--data", data, "--limit", "2", "--tasks", "sr4", "--steps", "1",
		"--w", "1,4", "--tau0", "0.3", "--out", out, "--presets", presets, "--splice", doc)
	if code != 0 {
		t.Fatalf("sweep: exit %d: %s", code, stderr)
	}
	f, err := os.Open(presets)
	if err != nil {
		t.Fatal(err)
	}
	lib, err := restore.ReadLibrary(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	merged := lib[restore.PriorFace]
	if p := merged.Get(sampler.CPiGDM, restore.Key(restore.Gray), 5); p != (restore.Preset{W: 2, Tau0: 0.5}) {
		t.Errorf("merge lost the gray preset: %+v", p)
	}
	if p := merged.Get(sampler.CPiGDM, restore.Key(restore.SR4), 1); (p.W != 1 && p.W != 4) || p.Tau0 != 0.3 {
		t.Errorf("merged sr4 preset %+v is not a swept point", p)
	}
	if p := lib[restore.PriorPhoto].Get(sampler.CPiGDM, restore.Key(restore.SR4), 1); p != (restore.Preset{W: 9, Tau0: 0.9}) {
		t.Errorf("a face-model sweep changed the photo presets: %+v", p)
	}
	got, _ = os.ReadFile(doc)
	if !strings.Contains(string(got), "### sr4, cpigdm, 1 steps") {
		t.Errorf("sweep not spliced:\n%s", got)
	}

	testPhotoEval(t)

	for _, bad := range [][]string{
		{"sweep", "--data", data, "--out", out, "--w", "x"},
		{"sweep", "--data", data, "--out", out, "--tau0", "1.5"},
		{"sweep", "--data", data, "--out", out, "--methods", "nope"},
		{"eval", "--data", data, "--out", out, "--splice", filepath.Join(out, "missing.md"), "--model", mdl, "--tasks", "gray", "--methods", "pinv"},
	} {
		if code, _, stderr := runCLI(t, bad...); code != 2 || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q", bad, code, stderr)
		}
	}
}

// sweep's ';'-separated blocks make a union of grids, and trials.json lets
// a grown grid run only its new points, refusing another run's trials.
func TestSweepBlocksAndResume(t *testing.T) {
	mdl := writeTinyModel(t)
	data := t.TempDir()
	for _, n := range []string{"a.png", "b.png"} {
		writePNG(t, data, n, 22, 19, false)
	}
	out := t.TempDir()
	sweep := func(extra ...string) (int, string) {
		args := append([]string{"sweep", "--model", mdl, "--data", data, "--tasks", "sr4", "--steps", "1", "--jobs", "2", "--out", out}, extra...)
		code, _, stderr := runCLI(t, args...)
		return code, stderr
	}
	trials := func() []eval.Trial {
		b, err := os.ReadFile(filepath.Join(out, "trials.json"))
		if err != nil {
			t.Fatal(err)
		}
		var f struct{ Trials []eval.Trial }
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatal(err)
		}
		return f.Trials
	}
	if code, stderr := sweep("--w", "1;4,8", "--tau0", "0.3;0.5"); code != 0 {
		t.Fatalf("sweep: exit %d: %s", code, stderr)
	}
	if tr := trials(); len(tr) != 3 {
		t.Fatalf("%d trials after w ∈ {1} × τ₀ ∈ {0.3} ∪ w ∈ {4, 8} × τ₀ ∈ {0.5}, want 3", len(tr))
	}
	code, stderr := sweep("--w", "1;4,8;2", "--tau0", "0.3;0.5;0.3")
	if code != 0 {
		t.Fatalf("grown sweep: exit %d: %s", code, stderr)
	}
	// Only the new point ran: 2 images, so the progress ends at 2/2.
	if !strings.Contains(stderr, " 2/2 (") || strings.Contains(stderr, "/8 (") {
		t.Errorf("grown sweep's progress %q: want only the new point's 2 restorations", stderr)
	}
	md, _ := os.ReadFile(filepath.Join(out, "sweep.md"))
	if len(trials()) != 4 || strings.Count(string(md), "\n| ") != 5 { // header + 4 rows
		t.Errorf("after growing: %d trials, sweep.md:\n%s", len(trials()), md)
	}
	if code, stderr := sweep("--limit", "1", "--w", "1", "--tau0", "0.3"); code != 2 || !strings.Contains(stderr, "remove it or pick another --out") {
		t.Errorf("sweep of another image range into the same --out: exit %d, %q", code, stderr)
	}
	if code, stderr := sweep("--w", "1;2", "--tau0", "0.3;0.4;0.5"); code != 2 || !strings.Contains(stderr, "blocks") {
		t.Errorf("mismatched blocks: exit %d, %q", code, stderr)
	}
}

// A report's command line survives a POSIX shell: sh -c 'printf …' prints
// every quoted argument back unchanged.
func TestShellQuote(t *testing.T) {
	args := []string{"--w", "15,60,250;2,5", "--tau0", "0.1", "it's", "", "a b", "$HOME", "--out=x/y"}
	var line []string
	for _, a := range args {
		line = append(line, shellQuote(a))
	}
	out, err := exec.Command("sh", "-c", `printf '%s\n' `+strings.Join(line, " ")).Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n"); !slices.Equal(got, args) {
		t.Errorf("shell read %q back as %q", strings.Join(line, " "), got)
	}
	if shellQuote("--limit") != "--limit" || shellQuote("0.1,0.4") != "0.1,0.4" {
		t.Error("plain words should stay unquoted")
	}
}

// testPhotoEval runs eval and sweep on whole photos with a local model:
// every whole-photo task, full-size montages of 1:1 crops, and the sweep's
// presets filed under the photo prior.
func testPhotoEval(t *testing.T) {
	mdl := writeModel(t, localTiny)
	data := t.TempDir()
	for _, n := range []string{"a.png", "b.png"} {
		writePNG(t, data, n, 64+len(n), 66, false)
	}
	out := t.TempDir()
	code, _, stderr := runCLI(t, "eval", "--model", mdl, "--data", data, "--tasks", "sr4,sr2,inpaint-free,deblur,denoise,gray",
		"--methods", "cpigdm,ddnm,pinv,bicubic", "--steps", "1", "--work", "32", "--keep", "1", "--out", out)
	if code != 0 {
		t.Fatalf("photo eval: exit %d: %s", code, stderr)
	}
	report, _ := os.ReadFile(filepath.Join(out, "report.md"))
	for _, want := range []string{"## sr4\n", "## sr2\n", "## inpaint-free\n", "## denoise\n", "## gray\n", "bicubic"} {
		if !strings.Contains(string(report), want) {
			t.Errorf("photo report lacks %q:\n%s", want, report)
		}
	}
	img, err := imaging.Open(filepath.Join(out, "sr4.png"))
	if err != nil {
		t.Fatal(err)
	}
	// One image kept: observation, cpigdm, ddnm, pinv, bicubic, truth; 64×64 crops of a 64×64 SR output.
	if b := img.Bounds(); b.Dx() != 6*64 || b.Dy() != 64 {
		t.Errorf("sr4 montage is %v, want 384×64", b)
	}
	presets := filepath.Join(t.TempDir(), "presets.json")
	if err := os.WriteFile(presets, []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runCLI(t, "sweep", "--model", mdl, "--data", data, "--limit", "1", "--tasks", "sr2", "--steps", "1",
		"--w", "1,4", "--tau0", "0.3", "--out", t.TempDir(), "--presets", presets)
	if code != 0 {
		t.Fatalf("photo sweep: exit %d: %s", code, stderr)
	}
	f, _ := os.Open(presets)
	lib, err := restore.ReadLibrary(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if p := lib[restore.PriorPhoto].Get(sampler.CPiGDM, restore.Key(restore.SR2), 1); p.Tau0 != 0.3 || lib[restore.PriorFace] != nil {
		t.Errorf("photo sweep presets: %+v", lib)
	}
}

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"conjure/eval"
)

// reportFlags are the output flags eval and sweep share: the folder, and
// the Markdown document whose region the report replaces.
type reportFlags struct {
	out, splice, region *string
}

// addReportFlags defines --out (holding what), --splice and --region
// (default region) on fs.
func addReportFlags(fs *flag.FlagSet, what, region string) *reportFlags {
	return &reportFlags{
		out:    fs.String("out", "", "output `DIR` for "+what),
		splice: fs.String("splice", "", "also replace the report between <!-- begin REGION --> and <!-- end REGION --> in this Markdown `FILE`"),
		region: fs.String("region", region, "the `REGION` of --splice's file to replace"),
	}
}

// check fails early, before a long run, on a missing --out or a --splice
// document without the region.
func (f *reportFlags) check() error {
	if *f.out == "" {
		return errors.New("--out is required")
	}
	return checkSplice(*f.splice, *f.region)
}

// publish writes a report with write to the file name in --out (creating
// the folder), to stdout, and into --splice's region when it is set.
func (f *reportFlags) publish(name string, stdout io.Writer, write func(io.Writer) error) error {
	if err := os.MkdirAll(*f.out, 0o755); err != nil {
		return err
	}
	var report strings.Builder
	err := writeFile(filepath.Join(*f.out, name), func(w io.Writer) error { return write(io.MultiWriter(w, stdout, &report)) })
	if err == nil && *f.splice != "" {
		err = spliceInto(*f.splice, *f.region, report.String())
	}
	return err
}

// checkSplice fails early, before a long run, when the document at path
// cannot take the region called name.
func checkSplice(path, name string) error {
	if path == "" {
		return nil
	}
	doc, err := os.ReadFile(path)
	if err == nil {
		_, err = eval.Splice(doc, name, "")
	}
	if err != nil {
		return fmt.Errorf("--splice %s: %w", path, err)
	}
	return nil
}

// spliceInto replaces the region called name of the Markdown file at path
// with report, its title dropped and its headings one level deeper, so it
// nests under the document's own headings.
func spliceInto(path, name, report string) error {
	doc, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("--splice: %w", err)
	}
	lines := strings.Split(report, "\n")
	if len(lines) > 0 && strings.HasPrefix(lines[0], "# ") {
		lines = lines[1:]
	}
	for i, l := range lines {
		if strings.HasPrefix(l, "#") {
			lines[i] = "#" + l
		}
	}
	doc, err = eval.Splice(doc, name, strings.TrimLeft(strings.Join(lines, "\n"), "\n"))
	if err != nil {
		return fmt.Errorf("--splice %s: %w", path, err)
	}
	return os.WriteFile(path, doc, 0o644)
}

// writeFile writes path with write, through a temporary file renamed into
// place, so an interrupted run leaves the old file or the new one, never
// half of one.
func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		os.Remove(f.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		os.Remove(f.Name())
		return err
	}
	return os.Rename(f.Name(), path)
}

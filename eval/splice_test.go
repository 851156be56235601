package eval

import "testing"

func TestSplice(t *testing.T) {
	doc := "# Title\n\nprose\n<!-- begin eval -->\nold table\n<!-- end eval -->\nmore prose\n"
	got, err := Splice([]byte(doc), "eval", "| a |\n|---|\n| 1 |")
	if err != nil {
		t.Fatal(err)
	}
	want := "# Title\n\nprose\n<!-- begin eval -->\n| a |\n|---|\n| 1 |\n<!-- end eval -->\nmore prose\n"
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	again, err := Splice(got, "eval", "| a |\n|---|\n| 1 |\n")
	if err != nil || string(again) != want {
		t.Errorf("splicing twice is not idempotent: %v\n%s", err, again)
	}
	for _, bad := range []string{"no markers", "<!-- end eval -->\n<!-- begin eval -->\n", "<!-- begin sweep -->\n<!-- end sweep -->"} {
		if _, err := Splice([]byte(bad), "eval", "x"); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

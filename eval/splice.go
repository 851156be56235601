package eval

import (
	"bytes"
	"fmt"
)

// Splice returns doc with the text between the lines "<!-- begin NAME -->"
// and "<!-- end NAME -->" replaced by body, so a hand-written document can
// carry generated tables that one command regenerates. The markers stay.
func Splice(doc []byte, name, body string) ([]byte, error) {
	begin := []byte("<!-- begin " + name + " -->\n")
	end := []byte("<!-- end " + name + " -->")
	i := bytes.Index(doc, begin)
	if i < 0 {
		return nil, fmt.Errorf("no %q line", bytes.TrimSpace(begin))
	}
	j := bytes.Index(doc[i:], end)
	if j < 0 {
		return nil, fmt.Errorf("no %q line after %q", end, bytes.TrimSpace(begin))
	}
	j += i
	var out bytes.Buffer
	out.Write(doc[:i+len(begin)])
	out.WriteString(body)
	if len(body) > 0 && body[len(body)-1] != '\n' {
		out.WriteByte('\n')
	}
	out.Write(doc[j:])
	return out.Bytes(), nil
}

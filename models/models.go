// Package models embeds the network Conjure ships, so the command line works
// without a separate download. The model card beside the weights
// (face64.md) says how it was trained and on what.
package models

import (
	"bytes"
	_ "embed"
	"fmt"

	"conjure/model"
)

// DefaultName is the file name of the shipped model.
const DefaultName = "face64.safetensors"

//go:embed face64.safetensors
var face64 []byte

// DefaultBytes returns the shipped weight file; callers must not modify it.
func DefaultBytes() []byte { return face64 }

// Default parses the shipped model.
func Default() (*model.Model, error) {
	m, err := model.Read(bytes.NewReader(face64), int64(len(face64)))
	if err != nil {
		return nil, fmt.Errorf("shipped model %s: %w", DefaultName, err)
	}
	return m, nil
}

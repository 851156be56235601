// Package models embeds the networks Conjure ships, so the command line
// works without a separate download: photo, the local natural-image prior
// run on tiles of whole photos (the default), and face64, a framed prior of
// aligned 64×64 faces. The model cards beside the weights (photo.md,
// face64.md) say how each was trained and on what.
package models

import (
	"bytes"
	_ "embed"
	"fmt"
	"os"
	"strings"

	"conjure/model"
)

// Names of the shipped models, as --model takes them.
const (
	Photo  = "photo"
	Face64 = "face64"
	// Default is the model used when none is named.
	Default = Photo
)

//go:embed photo.safetensors
var photo []byte

//go:embed face64.safetensors
var face64 []byte

// Names lists the shipped models, the default first.
var Names = []string{Photo, Face64}

// Bytes returns the weight file of the shipped model name (Names); callers
// must not modify it.
func Bytes(name string) ([]byte, bool) {
	switch name {
	case Photo:
		return photo, true
	case Face64:
		return face64, true
	}
	return nil, false
}

// FileName returns the file name the shipped model name has in models/.
func FileName(name string) string { return name + ".safetensors" }

// Shipped parses the shipped model name.
func Shipped(name string) (*model.Model, error) {
	b, ok := Bytes(name)
	if !ok {
		return nil, fmt.Errorf("no shipped model %q (want one of %s)", name, strings.Join(Names, ", "))
	}
	m, err := model.Read(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, fmt.Errorf("shipped model %s: %w", FileName(name), err)
	}
	return m, nil
}

// Load returns the model that --model names: a shipped model's name, a
// weight file's path, or "" for the default. A name that is neither is an
// error that lists the shipped ones.
func Load(nameOrPath string) (*model.Model, error) {
	if nameOrPath == "" {
		nameOrPath = Default
	}
	if _, ok := Bytes(nameOrPath); ok {
		return Shipped(nameOrPath)
	}
	if _, err := os.Stat(nameOrPath); err != nil {
		return nil, fmt.Errorf("--model %s: not a shipped model (%s) nor a readable weight file: %w", nameOrPath, strings.Join(Names, ", "), err)
	}
	return model.Load(nameOrPath)
}

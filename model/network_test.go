package model_test

import (
	"conjure/cpu"
	"conjure/model"
)

// A Runner is the trained network role of the CPU backend. This check lives
// in an external test package so that cpu may import model without a cycle.
var _ cpu.Network = (*model.Runner)(nil)

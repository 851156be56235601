module conjure

go 1.26

require (
	github.com/cogentcore/webgpu v0.23.0
	github.com/syumai/workers v0.33.0
	gonum.org/v1/gonum v0.17.0
)

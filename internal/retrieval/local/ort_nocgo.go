//go:build !cgo

package local

import "errors"

func openORT(string, Options) (runner, string, error) {
	return nil, "", errors.New("this build has no cgo, so no ONNX Runtime")
}

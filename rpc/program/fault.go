package program

import (
	"fmt"

	"github.com/rpcssh/rpcssh/rpc"
)

const (
	codeInvalidParams = rpc.CodeInvalidParams
	codeApplication   = rpc.CodeApplication
)

func faultf(code int, format string, a ...any) error {
	return &rpc.Fault{Code: code, Message: fmt.Sprintf(format, a...)}
}

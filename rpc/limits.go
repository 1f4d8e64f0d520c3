package rpc

// Limits bound what a peer can make the codec do. A zero field means its default.
type Limits struct {
	MaxBodyBytes int64 // default 64 MiB (request body at the server, response at the client)
	MaxDepth     int   // default 128 nesting levels of array/struct
	MaxParams    int   // default 1<<16 params in one call
	MaxMembers   int   // default 1<<20 members/elements in one struct/array

	// MaxMulticallCalls bounds the calls in one system.multicall (default
	// 1000); more is a fault before any of them runs. The response of a
	// multicall is also cut at MaxBodyBytes while it is built (see
	// system.multicall's help).
	MaxMulticallCalls int
}

// Default limit values, used for zero fields of Limits.
const (
	DefaultMaxBodyBytes = 64 << 20
	DefaultMaxDepth     = 128
	DefaultMaxParams    = 1 << 16
	DefaultMaxMembers   = 1 << 20

	DefaultMaxMulticallCalls = 1000
)

// withDefaults returns l with every zero (or negative) field set to its default.
func (l Limits) withDefaults() Limits {
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxParams <= 0 {
		l.MaxParams = DefaultMaxParams
	}
	if l.MaxMembers <= 0 {
		l.MaxMembers = DefaultMaxMembers
	}
	if l.MaxMulticallCalls <= 0 {
		l.MaxMulticallCalls = DefaultMaxMulticallCalls
	}
	return l
}

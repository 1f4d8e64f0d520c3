package rpc

import (
	"context"
	"slices"
	"strconv"
)

// The built-in methods: introspection (system.listMethods, methodHelp,
// methodSignature), system.multicall and system.getCapabilities.

func faultStruct(f *Fault) map[string]any {
	return map[string]any{"faultCode": int64(f.Code), "faultString": f.Message}
}

func (r *registry) builtins() []Method {
	return []Method{
		{
			Name:       "system.listMethods",
			Help:       "Returns the names of the methods this server offers.",
			Signatures: [][]string{{"array"}},
			Func: func() []string {
				r.mu.RLock()
				defer r.mu.RUnlock()
				names := make([]string, 0, len(r.methods))
				for n := range r.methods {
					names = append(names, n)
				}
				slices.Sort(names)
				return names
			},
		},
		{
			Name:       "system.methodHelp",
			Help:       "Returns the help text of a method.",
			Signatures: [][]string{{"string", "string"}},
			Func: func(name string) (string, error) {
				m := r.lookup(name)
				if m == nil {
					return "", &Fault{Code: CodeInvalidParams, Message: "method " + strconv.Quote(name) + " not found"}
				}
				return m.Help, nil
			},
		},
		{
			Name: "system.methodSignature",
			Help: "Returns the signatures of a method: an array of arrays of type names, result first, " +
				"or the string \"" + unsupportedSignature + "\".",
			Signatures: [][]string{{"array", "string"}},
			Func: func(name string) (any, error) {
				m := r.lookup(name)
				if m == nil {
					return nil, &Fault{Code: CodeInvalidParams, Message: "method " + strconv.Quote(name) + " not found"}
				}
				return m.signatures(), nil
			},
		},
		{
			Name: "system.multicall",
			Help: "Runs several calls in one request, in turn. Takes an array of structs {methodName, params} (at most " +
				strconv.Itoa(r.lim.MaxMulticallCalls) + ") and returns an array holding, for each call, a one-element array " +
				"with its result or a struct {faultCode, faultString}. The response is cut at " + strconv.FormatInt(r.lim.MaxBodyBytes, 10) +
				" bytes: a result that would pass it becomes a fault, and the calls after it are not run.",
			Signatures: [][]string{{"array", "array"}},
			Func:       r.multicall,
		},
		{
			Name:       "system.getCapabilities",
			Help:       "Returns the XML-RPC extensions this server implements.",
			Signatures: [][]string{{"struct"}},
			Func: func() map[string]any {
				spec := func(url string, version int64) map[string]any {
					return map[string]any{"specUrl": url, "specVersion": version}
				}
				return map[string]any{
					"faults_interop":   spec("http://xmlrpc-epi.sourceforge.net/specs/rfc.fault_codes.php", 20010516),
					"system.multicall": spec("http://www.xmlrpc.com/discuss/msgReader$1208", 1),
					"introspection":    spec("http://xmlrpc.usefulinc.com/doc/reserved.html", 1),
					"nil":              spec("http://www.ontosys.com/xml-rpc/extensions.php", 20010518),
				}
			},
		},
	}
}

func (r *registry) multicallOne(ctx context.Context, c any) any {
	st, ok := c.(map[string]any)
	if !ok {
		return faultStruct(&Fault{Code: CodeInvalidParams, Message: "multicall entry is a " + naturalName(c) + ", want struct {methodName, params}"})
	}
	name, ok := st["methodName"].(string)
	if !ok {
		return faultStruct(&Fault{Code: CodeInvalidParams, Message: "multicall entry without a string methodName"})
	}
	params, ok := st["params"].([]any)
	if !ok && st["params"] != nil {
		return faultStruct(&Fault{Code: CodeInvalidParams, Message: "multicall entry params is a " + naturalName(st["params"]) + ", want array"})
	}
	if name == "system.multicall" {
		return faultStruct(&Fault{Code: CodeInvalidRequest, Message: "recursive system.multicall forbidden"})
	}
	m := r.lookup(name)
	if m == nil {
		return faultStruct(&Fault{Code: CodeMethodNotFound, Message: "method " + strconv.Quote(name) + " not found"})
	}
	result, err := m.callNatural(ctx, params)
	if err != nil {
		return faultStruct(methodFault(err))
	}
	return []any{result}
}

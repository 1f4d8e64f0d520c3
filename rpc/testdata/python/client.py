"""Python's xmlrpc.client against an rpcssh server. argv[1] names a scenario; the URL
(with user:password@) comes from RPC_URL, a URL with a wrong password from RPC_BADURL.
Prints one JSON object: case name -> repr() of the result, "Fault(code, 'msg')",
"ProtocolError(status)" or "Error(ExceptionClass)". The Go test holds the wanted values."""
import datetime
import json
import os
import sys
import xmlrpc.client


def outcome(fn):
    try:
        return repr(fn())
    except xmlrpc.client.Fault as f:
        return 'Fault(%d, %r)' % (f.faultCode, f.faultString)
    except xmlrpc.client.ProtocolError as e:
        return 'ProtocolError(%d)' % e.errcode
    except Exception as e:  # report, do not crash: the Go side compares
        return 'Error(%s)' % type(e).__name__


def proxy(url=None, **kw):
    return xmlrpc.client.ServerProxy(url or os.environ['RPC_URL'], allow_none=True,
                                     use_builtin_types=True, **kw)


def types():
    p = proxy()
    values = {
        'nil': None, 'true': True, 'int': 42, 'minint': -2**31, 'float': 1.5,
        'string': 'héllo <&> ]]>', 'spaces': '  kept\n', 'empty': '',
        'astral': 'smile 😀 \U0001F9E1', 'bytes': b'\x00byte\xff',
        'datetime': datetime.datetime(2026, 1, 2, 3, 4, 5),
        'array': [1, 'a', [True, None]], 'struct': {'b': [1], 'a': {'x': 'y'}, 'ключ': 2},
    }
    out = {k: outcome(lambda v=v: p.echo(v)) for k, v in values.items()}
    out['i8'] = outcome(lambda: p.big())
    out['roundtrip'] = repr(all(p.echo(v) == v and type(p.echo(v)) is type(v) for v in values.values()))
    return out


def multicall():
    mc = xmlrpc.client.MultiCall(proxy())
    mc.echo('one')
    mc.fail()
    mc.add(2, 3)
    mc.nosuch()
    res = mc()
    return {str(i): outcome(lambda i=i: res[i]) for i in range(4)}


def introspection():
    p = proxy()
    return {
        'listMethods': outcome(lambda: p.system.listMethods()),
        'methodHelp': outcome(lambda: p.system.methodHelp('add')),
        'methodSignature': outcome(lambda: p.system.methodSignature('add')),
        'unknownHelp': outcome(lambda: p.system.methodHelp('nosuch')),
    }


def faults():
    p = proxy()
    return {
        'fail': outcome(lambda: p.fail()),
        'unknown': outcome(lambda: p.nosuch()),
        'badparams': outcome(lambda: p.add('x', 1)),
        'count': outcome(lambda: p.add(1)),
        'afterwards': outcome(lambda: p.add(40, 2)),
    }


def wrongpass():
    return {
        'wrong': outcome(lambda: proxy(os.environ['RPC_BADURL']).echo('x')),
        'right': outcome(lambda: proxy().echo('x')),
    }


def gzip_request():
    t = xmlrpc.client.Transport(use_builtin_types=True)
    t.encode_threshold = 100  # gzip request bodies above 100 bytes
    p = xmlrpc.client.ServerProxy(os.environ['RPC_URL'], transport=t, allow_none=True, use_builtin_types=True)
    big = 'x' * 5000
    return {'big': outcome(lambda: p.echo(big) == big), 'small': outcome(lambda: p.echo('s'))}


SCENARIOS = {
    'types': types, 'multicall': multicall, 'introspection': introspection,
    'faults': faults, 'wrongpass': wrongpass, 'gzip': gzip_request,
}

if __name__ == '__main__':
    json.dump(SCENARIOS[sys.argv[1]](), sys.stdout, ensure_ascii=False, sort_keys=True)

"""Python's xmlrpc.server dispatcher on a Unix-domain socket (argv[1] = socket path).
Prints "READY" once listening; methods: echo (uppercase), identity, fail."""
import socketserver
import sys
import xmlrpc.client
from xmlrpc.server import SimpleXMLRPCDispatcher, SimpleXMLRPCRequestHandler


class UnixHandler(SimpleXMLRPCRequestHandler):
    rpc_paths = ('/', '/RPC2')
    disable_nagle_algorithm = False  # TCP_NODELAY does not apply to AF_UNIX

    def address_string(self):  # a Unix peer has no (host, port)
        return 'unix'

    def log_message(self, format, *args):
        pass


class UnixXMLRPCServer(socketserver.UnixStreamServer, SimpleXMLRPCDispatcher):
    _send_traceback_header = False
    logRequests = False

    def __init__(self, path):
        SimpleXMLRPCDispatcher.__init__(self, allow_none=True, encoding=None, use_builtin_types=True)
        socketserver.UnixStreamServer.__init__(self, path, UnixHandler)


def main():
    server = UnixXMLRPCServer(sys.argv[1])
    server.register_function(lambda s: s.upper(), 'echo')
    server.register_function(lambda x: x, 'identity')

    def fail():
        raise xmlrpc.client.Fault(4, 'boom')
    server.register_function(fail, 'fail')
    print('READY', flush=True)
    server.serve_forever()


if __name__ == '__main__':
    main()

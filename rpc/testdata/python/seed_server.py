"""The seed's Basic-auth XML-RPC server (shared/seed/xmlrpc-server-and-client-in-python.md),
kept as the post wrote it, for interop tests. Changes from the post, all outside
SecureXMLRPCServer.authenticate/VerifyingRequestHandler: the password comes from the
RPC_PASSWORD environment variable (not argv, so it never shows in ps), port 0 picks a
free port which is printed as "PORT <n>" on the first stdout line, the server is
created with allow_none/use_builtin_types (for the type tests) and without request
logging, and a few more functions are registered next to the seed's echo.

Note: like the seed, authenticate() raises on a missing or malformed Authorization
header, which drops the connection; that is the seed's behaviour.
"""
import argparse
import datetime
import os
import sys
import xmlrpc
import xmlrpc.client
from base64 import b64decode
from xmlrpc.server import SimpleXMLRPCServer, SimpleXMLRPCRequestHandler
# Python 3.6

class SecureXMLRPCServer(SimpleXMLRPCServer):

    def __init__(self, host, port, username, password, *args, **kargs):
        self.username = username
        self.password = password
        class VerifyingRequestHandler(SimpleXMLRPCRequestHandler):
              def parse_request(request):
                  if SimpleXMLRPCRequestHandler.parse_request(request):
                      if self.authenticate(request.headers):
                          return True
                      else:
                          request.send_error(401, 'Authentication failed, Try agin.')
                  return False
        SimpleXMLRPCServer.__init__(self, (host, port), requestHandler=VerifyingRequestHandler, *args, **kargs)

    def authenticate(self, headers):
        headers = headers.get('Authorization').split()
        basic, encoded = headers[0], headers[1]
        if basic != 'Basic':
            print ('Only basic authentication supported')
            return False
        secret = b64decode(encoded).split(b':')
        username, password = secret[0].decode("utf-8"), secret[1].decode("utf-8")
        return True if (username == self.username and password == self.password) else False

def run_server(host, port, username, password):
    server = SecureXMLRPCServer(host, port, username, password,
                                allow_none=True, use_builtin_types=True, logRequests=False)
    def echo(msg):
        reply = msg.upper()
        print ("Client said: %s. So we echo that in uppercase: %s" %(msg, reply))
        return reply
    server.register_function(echo, 'echo')

    # Additions for the interop tests.
    def identity(x):
        return x
    def fail():
        raise xmlrpc.client.Fault(4, 'boom')
    def crash():
        raise ValueError('bad value')
    def types():
        return {
            'int': 42, 'neg': -7, 'bool': True, 'str': 'héllo 😀', 'float': 1.5,
            'bytes': b'\x00\xff', 'when': datetime.datetime(2026, 1, 2, 3, 4, 5),
            'none': None, 'list': [1, 'a', [2]], 'empty': {},
        }
    server.register_function(identity, 'identity')
    server.register_function(fail, 'fail')
    server.register_function(crash, 'crash')
    server.register_function(types, 'types')
    server.register_multicall_functions()
    server.register_introspection_functions()

    print("PORT %d" % server.server_address[1], flush=True)
    server.serve_forever()

if __name__ == '__main__':
    parser = argparse.ArgumentParser(description='Multithreaded multicall XMLRPC Server/Proxy')
    parser.add_argument('--host', action="store", dest="host", default='localhost')
    parser.add_argument('--port', action="store", dest="port", default=8000, type=int)
    parser.add_argument('--username', action="store", dest="username", default='user')
    given_args = parser.parse_args()
    host, port =  given_args.host, given_args.port
    username, password = given_args.username, os.environ.get('RPC_PASSWORD', 'pass')
    run_server(host, port, username, password)

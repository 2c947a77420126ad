"""No network for any Python process started with this folder on its PYTHONPATH.

What it is for: the tests show that nanoae works on a fresh offline machine
(every chapter notebook runs top to bottom with no network and an empty data
folder) without pulling the cable of the machine that runs them. Python's
``site`` module imports a module named ``sitecustomize`` at start-up when
one is on ``sys.path``, so a process started with

    PYTHONPATH=tests/network_block NANOAE_DATA=/an/empty/folder HOME=/another/empty/folder

and every process it starts in turn, a Jupyter kernel included (a kernel
inherits its client's environment), runs this file before anything else.
The ``HOME`` matters as much as ``NANOAE_DATA``: datasets are also looked
for in ``~/.cache/nanoae``.

From then on, connecting a Python socket to an address that is not this
machine fails at once with :class:`NetworkBlockedError`, an OSError (a
ConnectionError) whose message starts "network blocked by the nanoae tests";
looking up any host name but "localhost" fails the same way, at once,
instead of waiting for a name server. Loopback (127.0.0.0/8, ::1,
"localhost") still works: a Jupyter kernel talks to its client over
127.0.0.1 (through ZeroMQ, whose sockets are not Python's, but other parts of
a kernel use Python sockets on loopback too). Unix sockets are not the
network and pass.

This is a test tool: it patches the ``socket`` module at import, which
nanoae itself never does. It shadows any other ``sitecustomize`` further
along ``sys.path`` (there is none in a plain Python or virtual environment).
"""
import ipaddress
import socket

MESSAGE = "network blocked by the nanoae tests (tests/network_block/sitecustomize.py)"


class NetworkBlockedError(ConnectionError):
    """A connection or name lookup to somewhere other than this machine, refused by the test block."""


def is_local(host):
    """Whether ``host`` (a name or an address, str or bytes) is this machine: loopback or unspecified."""
    if host in (None, "", b"", "localhost", b"localhost"):  # None and "": the local side of a bind
        return True
    if isinstance(host, bytes):
        host = host.decode()
    try:
        address = ipaddress.ip_address(host.split("%")[0])  # an IPv6 address may end in %interface
    except ValueError:
        return False  # a host name other than localhost
    return address.is_loopback or address.is_unspecified


def refuse_unless_local(host, what):
    if not is_local(host):
        raise NetworkBlockedError(f"{MESSAGE}: {what} {host!r}")


_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex
_getaddrinfo = socket.getaddrinfo
_gethostbyname = socket.gethostbyname
_gethostbyname_ex = socket.gethostbyname_ex


def _check_address(sock, address):
    # Only IP sockets reach the network; a Unix socket's address is a path.
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        refuse_unless_local(address[0], "connecting to")


def connect(self, address):
    _check_address(self, address)
    return _connect(self, address)


def connect_ex(self, address):
    _check_address(self, address)
    return _connect_ex(self, address)


def getaddrinfo(host, *args, **kwargs):
    refuse_unless_local(host, "looking up")
    return _getaddrinfo(host, *args, **kwargs)


def gethostbyname(host):
    refuse_unless_local(host, "looking up")
    return _gethostbyname(host)


def gethostbyname_ex(host):
    refuse_unless_local(host, "looking up")
    return _gethostbyname_ex(host)


socket.socket.connect = connect
socket.socket.connect_ex = connect_ex
socket.getaddrinfo = getaddrinfo
socket.gethostbyname = gethostbyname
socket.gethostbyname_ex = gethostbyname_ex

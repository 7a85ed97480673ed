"""Python client over mutual TLS against a shardbearerd the C++ test started.

usage: python_tls_roundtrip.py <port> <certificate directory>
The directory holds ca.pem, client.pem/client.key (signed by ca.pem) and
rogue.pem/rogue.key (self-signed: another CA). PYTHONPATH must hold the
generated bindings and clients/python. Exits non-zero with a message on the
first mismatch.
"""
import os
import ssl
import sys

from thrift.protocol import TBinaryProtocol
from thrift.transport import TSocket, TSSLSocket, TTransport

from shardbearer_client import Client
from shardbearer_wire import Kv
from shardbearer_wire.ttypes import GetRequest


def check(cond, what):
    if not cond:
        print("FAILED:", what)
        sys.exit(1)


def refused(make_socket, what):
    """True when a get over the socket `make_socket()` builds fails."""
    sock = make_socket()
    sock.setTimeout(5000)
    transport = TTransport.TFramedTransport(sock)
    kv = Kv.Client(TBinaryProtocol.TBinaryProtocol(transport))
    try:
        transport.open()
        kv.get(GetRequest(key=b"k"))
    except (TTransport.TTransportException, OSError) as e:
        print("refused as expected (%s): %s" % (what, e))
        return True
    finally:
        try:
            transport.close()
        except (TTransport.TTransportException, OSError, AttributeError):
            pass  # python3-thrift: TSSLSocket.close() of a failed socket
    return False


def main():
    port = int(sys.argv[1])
    d = sys.argv[2]
    ca, cert, key = (os.path.join(d, f) for f in ("ca.pem", "client.pem",
                                                   "client.key"))

    # Round trip over mutual TLS.
    c = Client("127.0.0.1", port, timeout_ms=20000, attempts=8,
               tls_cert=cert, tls_key=key, tls_ca=ca)
    c.put(b"tls-key", b"\x00secret\xff")
    check(c.get(b"tls-key") == b"\x00secret\xff", "get after put")
    check(c.append(b"tls-key", b"!") == 9, "append size")
    ok, prev = c.compare_and_set(b"tls-key", b"\x00secret\xff!", b"v2")
    check(ok and prev == b"\x00secret\xff!", "cas")
    check(c.multi_get([b"tls-key", b"absent"]) == [b"v2", None], "multi_get")
    check(c.delete(b"tls-key") is True, "delete")
    check(c.status().node_id != 0, "admin status over TLS")
    c.close()

    # No client certificate: the server refuses the handshake.
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.load_verify_locations(cafile=ca)
    check(refused(lambda: TSSLSocket.TSSLSocket(
        "127.0.0.1", port, ssl_context=ctx,
        validate_callback=lambda cert, host: None), "no client certificate"),
        "a client without a certificate was served")

    # A certificate from another CA: refused.
    rogue = Client("127.0.0.1", port, timeout_ms=5000, attempts=1,
                   tls_cert=os.path.join(d, "rogue.pem"),
                   tls_key=os.path.join(d, "rogue.key"), tls_ca=ca)
    try:
        rogue.get(b"k")
        check(False, "a certificate from another CA was served")
    except (TTransport.TTransportException, OSError) as e:
        print("refused as expected (other CA):", e)

    # Plain TCP: refused.
    check(refused(lambda: TSocket.TSocket("127.0.0.1", port), "plain TCP"),
          "a plain TCP client was served")

    # Bad TLS settings are clear errors before any connection.
    for kwargs, needle in (
            ({"tls_cert": cert, "tls_key": key}, "CA file is not set"),
            ({"tls_cert": cert, "tls_key": key,
              "tls_ca": os.path.join(d, "nope.pem")}, "nope.pem"),
            ({"tls_cert": ca, "tls_key": key, "tls_ca": ca}, "do not load")):
        try:
            Client("127.0.0.1", port, **kwargs)
            check(False, "bad TLS settings accepted: %r" % kwargs)
        except ValueError as e:
            check(needle in str(e), "message %r names %r" % (str(e), needle))
    print("python tls round trip ok")


if __name__ == "__main__":
    main()

"""Thin Python client for Shardbearer's Kv and Admin services.

Uses the bindings generated from thrift/shardbearer.thrift (package
`shardbearer_wire`, built into <build>/clients/python/gen-py) over framed
transport + binary protocol, the stack every Shardbearer server speaks.
Kv and Admin share the client port (method names are unique).

Writes carry (client_id, sequence) so a retried write applies once. This
client retries a write that timed out (outcome unknown) with the same id,
and follows WrongLeader hints. Not thread-safe: one client per thread.

Mutual TLS, like the C++ client: pass tls_cert, tls_key (this client's
certificate and key) and tls_ca (the cluster's CA, which signs the node
certificates), all three or none. The node's certificate chain must verify
against tls_ca; there is no host-name check (the CA is the cluster's own).
TLS 1.2 or later. Built on Python's ssl module under python3-thrift's
TSSLSocket (ssl_context=...).
"""

import os
import random
import ssl
import time

from thrift.protocol import TBinaryProtocol
from thrift.transport import TSocket, TSSLSocket, TTransport

from shardbearer_wire import Admin, Kv
from shardbearer_wire.ttypes import (AppendRequest, CasRequest, DeleteRequest,
                                     GetRequest, MultiGetRequest, NotReady,
                                     PutRequest, Timeout, WriteId, WrongLeader)


def shard_for_key(key: bytes, shards: int) -> int:
    """fnv1a_64(key) mod shards, as every Shardbearer client computes it."""
    h = 14695981039346656037
    for b in key:
        h ^= b
        h = (h * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h % shards


def tls_context(cert_file, key_file, ca_file):
    """An ssl.SSLContext for mutual TLS with a Shardbearer node.

    Raises ValueError naming the file when one is missing or does not load.
    """
    for what, path in (("certificate", cert_file), ("key", key_file),
                       ("CA", ca_file)):
        if not path:
            raise ValueError("TLS needs a certificate, a key and a CA file; "
                             "the %s file is not set" % what)
        if not os.access(path, os.R_OK):
            raise ValueError("TLS %s file %r is missing or unreadable"
                             % (what, path))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    # Trust is the cluster's CA; nodes are not named by host name.
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_REQUIRED
    try:
        ctx.load_cert_chain(cert_file, key_file)
    except (ssl.SSLError, OSError) as e:
        raise ValueError("TLS certificate %r / key %r do not load: %s"
                         % (cert_file, key_file, e)) from e
    try:
        ctx.load_verify_locations(cafile=ca_file)
    except (ssl.SSLError, OSError) as e:
        raise ValueError("TLS CA file %r does not load: %s"
                         % (ca_file, e)) from e
    return ctx


def _no_host_name_check(cert, hostname):
    """The chain was verified against the cluster's CA during the handshake;
    nodes are identified by that, not by host name."""


class Client:
    def __init__(self, host, port, timeout_ms=10000, attempts=5,
                 client_id=None, tls_cert=None, tls_key=None, tls_ca=None):
        self._address = (host, port)
        self._timeout_ms = timeout_ms
        self._attempts = attempts
        self.client_id = client_id or (random.getrandbits(62) | 1)
        self._tls = None
        if tls_cert or tls_key or tls_ca:
            self._tls = tls_context(tls_cert, tls_key, tls_ca)
        self._sequence = 0
        self._transport = None
        self.kv = None
        self.admin = None

    def _connect(self):
        if self._transport is not None:
            return
        if self._tls is not None:
            sock = TSSLSocket.TSSLSocket(
                *self._address, ssl_context=self._tls,
                validate_callback=_no_host_name_check)
        else:
            sock = TSocket.TSocket(*self._address)
        sock.setTimeout(self._timeout_ms)
        transport = TTransport.TFramedTransport(sock)
        proto = TBinaryProtocol.TBinaryProtocol(transport)
        transport.open()
        self._transport = transport
        self.kv = Kv.Client(proto)
        self.admin = Admin.Client(proto)

    def close(self):
        if self._transport is not None:
            try:
                self._transport.close()
            except (TTransport.TTransportException, OSError, AttributeError):
                # python3-thrift's TSSLSocket.close() fails with
                # AttributeError when the socket already closed itself
                # after an error; either way it is closed now.
                pass
            finally:
                self._transport = None

    def _call(self, fn):
        last = None
        for attempt in range(self._attempts):
            if attempt:
                time.sleep(min(0.05 * 2 ** attempt, 2.0))
            try:
                self._connect()
                return fn()
            except WrongLeader as e:
                last = e
                self.close()
                if e.leader_hint:
                    host, _, port = e.leader_hint.rpartition(':')
                    self._address = (host.strip('[]'), int(port))
            except (NotReady, Timeout) as e:
                last = e
            except (TTransport.TTransportException, OSError) as e:
                # Refused, reset, timed out, or a TLS failure (ssl.SSLError
                # is an OSError): reconnect on the next attempt.
                last = e
                self.close()
        raise last

    def _write_id(self):
        self._sequence += 1
        return WriteId(client_id=self.client_id, sequence=self._sequence)

    def get(self, key: bytes):
        r = self._call(lambda: self.kv.get(GetRequest(key=key)))
        return r.value if r.found else None

    def multi_get(self, keys):
        r = self._call(lambda: self.kv.multi_get(MultiGetRequest(keys=keys)))
        return [g.value if g.found else None for g in r.results]

    def put(self, key: bytes, value: bytes):
        req = PutRequest(key=key, value=value, write_id=self._write_id())
        self._call(lambda: self.kv.put(req))

    def append(self, key: bytes, value: bytes) -> int:
        req = AppendRequest(key=key, value=value, write_id=self._write_id())
        return self._call(lambda: self.kv.append(req)).new_size

    def delete(self, key: bytes) -> bool:
        req = DeleteRequest(key=key, write_id=self._write_id())
        return self._call(lambda: self.kv.remove(req)).existed

    def compare_and_set(self, key: bytes, expected, new_value):
        req = CasRequest(key=key, expected=expected, new_value=new_value,
                         write_id=self._write_id())
        r = self._call(lambda: self.kv.compare_and_set(req))
        return r.succeeded, r.current

    def status(self):
        return self._call(lambda: self.admin.status())

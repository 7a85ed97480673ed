"""Thin Python client for Shardbearer's Kv and Admin services.

Uses the bindings generated from thrift/shardbearer.thrift (package
`shardbearer_wire`, built into <build>/clients/python/gen-py) over framed
transport + binary protocol, the stack every Shardbearer server speaks.
Kv and Admin share the client port (method names are unique).

Writes carry (client_id, sequence) so a retried write applies once. This
client retries a write that timed out (outcome unknown) with the same id,
and follows WrongLeader hints. Not thread-safe: one client per thread.
"""

import random
import time

from thrift.protocol import TBinaryProtocol
from thrift.transport import TSocket, TTransport

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


class Client:
    def __init__(self, host, port, timeout_ms=10000, attempts=5,
                 client_id=None):
        self._address = (host, port)
        self._timeout_ms = timeout_ms
        self._attempts = attempts
        self.client_id = client_id or (random.getrandbits(62) | 1)
        self._sequence = 0
        self._transport = None
        self.kv = None
        self.admin = None

    def _connect(self):
        if self._transport is not None:
            return
        sock = TSocket.TSocket(*self._address)
        sock.setTimeout(self._timeout_ms)
        self._transport = TTransport.TFramedTransport(sock)
        proto = TBinaryProtocol.TBinaryProtocol(self._transport)
        self.kv = Kv.Client(proto)
        self.admin = Admin.Client(proto)
        self._transport.open()

    def close(self):
        if self._transport is not None:
            self._transport.close()
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
            except TTransport.TTransportException as e:
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

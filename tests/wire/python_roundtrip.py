"""Round trip from Python against a server the C++ test started.

usage: python_roundtrip.py <port>
PYTHONPATH must hold the generated bindings and clients/python.
Exits non-zero (with a message) on the first mismatch.
"""
import sys

from shardbearer_client import Client, shard_for_key
from shardbearer_wire.ttypes import ErrorCode, InvalidArgument, TooLarge


def check(cond, what):
    if not cond:
        print("FAILED:", what)
        sys.exit(1)


def main():
    port = int(sys.argv[1])
    c = Client("127.0.0.1", port, timeout_ms=5000)
    c.put(b"py-key", b"\x00bin\xff")
    check(c.get(b"py-key") == b"\x00bin\xff", "get after put")
    check(c.get(b"absent") is None, "get of absent key")
    check(c.append(b"py-key", b"!") == 6, "append size")
    ok, prev = c.compare_and_set(b"py-key", b"\x00bin\xff!", b"new")
    check(ok and prev == b"\x00bin\xff!", "cas")
    check(c.multi_get([b"py-key", b"absent"]) == [b"new", None], "multi_get")
    check(c.delete(b"py-key") is True, "delete")
    try:
        c.put(b"", b"v")
        check(False, "empty key accepted")
    except InvalidArgument as e:
        check(e.code == ErrorCode.INVALID_ARGUMENT, "invalid argument code")
    try:
        c.put(b"k" * 100000, b"v")
        check(False, "huge key accepted")
    except TooLarge as e:
        check(e.subject == "key" and e.code == ErrorCode.TOO_LARGE, "too large")
    st = c.status()
    check(st.node_id == 7, "admin status over the same port")
    # The documented shard hash (FNV-1a 64) matches the C++ client's.
    check(shard_for_key(b"", 64) == 14695981039346656037 % 64, "hash basis")
    check(shard_for_key(b"a", 64) == 0xAF63DC4C8601EC8C % 64, "hash of 'a'")
    c.close()
    print("python round trip ok")


if __name__ == "__main__":
    main()

"""Name lookups for confd's ``lookupIP*`` and ``lookupSRV``, shaped like Go's resolver.

``lookup_ip`` asks the system resolver (getaddrinfo: /etc/hosts, then DNS) and prints
addresses as Go's ``net.IP.String()`` does.

confd's ``lookupSRV`` is Go's ``net.LookupSRV``, and Python's standard library has no
SRV query, so this module sends one: it reads ``/etc/resolv.conf`` like Go does
(nameservers, ``search``/``domain``, ``ndots``, ``timeout``, ``attempts``, ``use-vc``),
tries the same candidate names in the same order, asks each server over UDP with an
EDNS0 record, retries over TCP when the answer is truncated, and applies Go's rules on
which answers to accept. One divergence, on purpose: without a ``timeout`` option the
wait per query is 2 s, not Go's 5 s, since a render blocks on it.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import struct
import time
from dataclasses import dataclass
from typing import ClassVar

from confpy.gotemplate.values import GoList

__all__ = [
    "SRV",
    "DNSError",
    "ResolvConf",
    "SRVList",
    "go_ip_string",
    "is_domain_name",
    "lookup_ip",
    "lookup_srv",
]

_TYPE_SRV = 33
_TYPE_OPT = 41
_CLASS_INET = 1
_UDP_PAYLOAD = 1232  # Go's maxDNSPacketSize, advertised with EDNS0
_RCODE_NXDOMAIN = 3


@dataclass(frozen=True, slots=True)
class SRV:
    """Go's ``net.SRV`` (confd hands templates ``*net.SRV`` values)."""

    go_type: ClassVar[str] = "*net.SRV"
    Target: str
    Port: int
    Priority: int
    Weight: int


class SRVList(GoList):
    """A Go ``[]*net.SRV``."""

    go_type = "[]*net.SRV"
    elem_type = "*net.SRV"


class DNSError(OSError):
    """A failed lookup; the text reads like Go's ``lookup NAME: ...``."""


class _NotFound(DNSError):
    """The name does not exist: other servers are not asked (as in Go)."""


def _leading_int(text: str) -> int:
    """Go's dtoi as resolv.conf options use it: leading digits, else 0."""
    digits = ""
    for c in text:
        if not c.isdigit() or not c.isascii():
            break
        digits += c
    return int(digits) if digits else 0


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _rooted(name: str) -> str:
    return name if name.endswith(".") else name + "."


@dataclass(frozen=True)
class ResolvConf:
    """The parts of resolv.conf the lookup uses."""

    servers: tuple[tuple[str, int], ...] = (("127.0.0.1", 53), ("::1", 53))
    search: tuple[str, ...] = ()
    ndots: int = 1
    timeout: float = 2.0
    attempts: int = 2
    use_tcp: bool = False

    @classmethod
    def load(cls, path: str = "/etc/resolv.conf") -> ResolvConf:
        """Parse ``path`` the way Go's dnsReadConfig does; a missing file gives defaults."""
        servers: list[tuple[str, int]] = []
        search: list[str] | None = None
        ndots, timeout, attempts, use_tcp = 1, 2.0, 2, False
        try:
            with open(path, encoding="utf-8", errors="replace") as file:
                lines = file.read().splitlines()
        except OSError:
            lines = []
        for line in lines:
            if line[:1] in (";", "#"):
                continue
            fields = line.split()
            if not fields:
                continue
            key, args = fields[0], fields[1:]
            if key == "nameserver" and args and len(servers) < 3 and _is_ip(args[0]):
                servers.append((args[0], 53))
            elif key == "domain" and args:
                search = [_rooted(args[0])]
            elif key == "search":
                search = [_rooted(arg) for arg in args]
            elif key == "options":
                for opt in args:
                    if opt.startswith("ndots:"):
                        ndots = min(max(_leading_int(opt[6:]), 0), 15)
                    elif opt.startswith("timeout:"):
                        timeout = float(max(_leading_int(opt[8:]), 1))
                    elif opt.startswith("attempts:"):
                        attempts = max(_leading_int(opt[9:]), 1)
                    elif opt in ("use-vc", "usevc", "tcp"):
                        use_tcp = True
        if not search:  # Go falls back to the domain of the host name
            host = socket.gethostname()
            dot = host.find(".")
            search = [_rooted(host[dot + 1 :])] if 0 <= dot < len(host) - 1 else []
        return cls(
            servers=tuple(servers) or cls.servers,
            search=tuple(search),
            ndots=ndots,
            timeout=timeout,
            attempts=attempts,
            use_tcp=use_tcp,
        )

    def name_list(self, name: str) -> list[str]:
        """The fully qualified names to try, in Go's order."""
        if name.endswith((".onion", ".onion.")):
            return []  # RFC 7686: never sent to DNS
        rooted = name.endswith(".")
        if len(name) > 254 or (len(name) == 254 and rooted):
            return []
        if rooted:
            return [name]
        enough_dots = name.count(".") >= self.ndots
        name += "."
        suffixed = [name + s for s in self.search if len(name) + len(s) <= 254]
        return [name, *suffixed] if enough_dots else [*suffixed, name]


def is_domain_name(s: str) -> bool:
    """Go's isDomainName: letters, digits, ``_`` and ``-`` in labels of 1..63 bytes."""
    if s == ".":
        return True
    if not s or len(s) > 254 or (len(s) == 254 and not s.endswith(".")):
        return False
    last, non_numeric, partlen = ".", False, 0
    for c in s:
        if c.isascii() and (c.isalpha() or c == "_"):
            non_numeric = True
            partlen += 1
        elif c.isascii() and c.isdigit():
            partlen += 1
        elif c == "-":
            if last == ".":
                return False
            partlen += 1
            non_numeric = True
        elif c == ".":
            if last in ".-" or partlen > 63 or partlen == 0:
                return False
            partlen = 0
        else:
            return False
        last = c
    return last != "-" and partlen <= 63 and non_numeric


# --- wire format -------------------------------------------------------------------


def _encode_name(fqdn: str) -> bytes:
    out = b""
    for label in fqdn.rstrip(".").split(".") if fqdn != "." else []:
        raw = label.encode("ascii")
        if not 0 < len(raw) <= 63:
            raise DNSError(f"lookup {fqdn}: invalid domain name")
        out += bytes([len(raw)]) + raw
    return out + b"\x00"


def _query(qid: int, fqdn: str) -> bytes:
    header = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 1)  # RD, one question, OPT
    question = _encode_name(fqdn) + struct.pack(">HH", _TYPE_SRV, _CLASS_INET)
    opt = b"\x00" + struct.pack(">HHIH", _TYPE_OPT, _UDP_PAYLOAD, 0, 0)
    return header + question + opt


def _read_name(msg: bytes, off: int) -> tuple[str, int]:
    """A possibly compressed name at ``off``: (dotted name, offset after it)."""
    labels: list[bytes] = []
    end = -1
    hops = 0
    while True:
        if off >= len(msg):
            raise DNSError("cannot unmarshal DNS message")
        length = msg[off]
        if length & 0xC0 == 0xC0:  # a pointer to an earlier name
            if off + 1 >= len(msg) or hops >= 10:
                raise DNSError("cannot unmarshal DNS message")
            if end < 0:
                end = off + 2
            off = ((length & 0x3F) << 8) | msg[off + 1]
            hops += 1
            continue
        if length & 0xC0:
            raise DNSError("cannot unmarshal DNS message")
        off += 1
        if length == 0:
            break
        labels.append(msg[off : off + length])
        off += length
    name = b".".join(labels) + b"."
    if len(name) > 255 or off > len(msg):
        raise DNSError("cannot unmarshal DNS message")
    return name.decode("utf-8", "surrogateescape"), (end if end >= 0 else off)


@dataclass(frozen=True)
class _Answer:
    rcode: int
    truncated: bool
    authoritative: bool
    recursion_available: bool
    records: tuple[tuple[int, bytes, int], ...]  # (type, whole message, rdata offset)


def _parse(msg: bytes, qid: int, fqdn: str) -> _Answer | None:
    """The answer to our question, or None for a packet Go would ignore."""
    if len(msg) < 12:
        return None
    rid, flags, qdcount, ancount = struct.unpack(">HHHH", msg[:8])
    if not flags & 0x8000 or rid != qid or qdcount != 1:
        return None
    try:
        qname, off = _read_name(msg, 12)
        qtype, qclass = struct.unpack(">HH", msg[off : off + 4])
    except (DNSError, struct.error):
        return None
    if (qtype, qclass) != (_TYPE_SRV, _CLASS_INET) or qname.lower() != fqdn.lower():
        return None
    off += 4
    records = []
    for _ in range(ancount):
        _, off = _read_name(msg, off)
        if off + 10 > len(msg):
            raise DNSError("cannot unmarshal DNS message")
        rtype, _, _, rdlen = struct.unpack(">HHIH", msg[off : off + 10])
        records.append((rtype, msg, off + 10))
        off += 10 + rdlen
        if off > len(msg):
            raise DNSError("cannot unmarshal DNS message")
    return _Answer(
        flags & 0xF, bool(flags & 0x0200), bool(flags & 0x0400), bool(flags & 0x80), tuple(records)
    )


def _exchange_udp(
    server: tuple[str, int], query: bytes, qid: int, fqdn: str, timeout: float
) -> _Answer:
    family, kind, proto, _, addr = socket.getaddrinfo(*server, type=socket.SOCK_DGRAM)[0]
    deadline = time.monotonic() + timeout
    with socket.socket(family, kind, proto) as sock:
        sock.connect(addr)  # connected: only the server's datagrams arrive
        sock.send(query)
        while True:  # ignore stray or forged packets until the deadline, as Go does
            sock.settimeout(max(deadline - time.monotonic(), 0.001))
            answer = _parse(sock.recv(65535), qid, fqdn)
            if answer is not None:
                return answer


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise DNSError("unexpected EOF")
        data += chunk
    return data


def _exchange_tcp(
    server: tuple[str, int], query: bytes, qid: int, fqdn: str, timeout: float
) -> _Answer:
    with socket.create_connection(server, timeout=timeout) as sock:
        sock.sendall(struct.pack(">H", len(query)) + query)
        (size,) = struct.unpack(">H", _recv_exact(sock, 2))
        answer = _parse(_recv_exact(sock, size), qid, fqdn)
    if answer is None:
        raise DNSError("invalid DNS response")
    return answer


def _try_one_name(conf: ResolvConf, fqdn: str) -> _Answer:
    last: Exception = DNSError(f"lookup {fqdn}: no answer from DNS server")
    for _ in range(conf.attempts):
        for server in conf.servers:
            qid = int.from_bytes(os.urandom(2), "big")
            query = _query(qid, fqdn)
            try:
                answer = None
                if not conf.use_tcp:
                    answer = _exchange_udp(server, query, qid, fqdn, conf.timeout)
                if answer is None or answer.truncated:  # RFC 5966: retry over TCP
                    answer = _exchange_tcp(server, query, qid, fqdn, conf.timeout)
                    if answer.truncated:
                        raise DNSError(f"lookup {fqdn}: no answer from DNS server")
            except OSError as exc:  # timeouts, refused, bad messages: next server
                last = exc
                continue
            if answer.rcode == _RCODE_NXDOMAIN:
                raise _NotFound(f"lookup {fqdn}: no such host")
            if (
                answer.rcode == 0
                and not answer.records
                and not (answer.authoritative or answer.recursion_available)
            ):
                last = DNSError(f"lookup {fqdn}: lame referral")
                continue
            if answer.rcode != 0:
                last = DNSError(f"lookup {fqdn}: server misbehaving")
                continue
            if not any(rtype == _TYPE_SRV for rtype, _, _ in answer.records):
                raise _NotFound(f"lookup {fqdn}: no such host")
            return answer
    raise last if isinstance(last, DNSError) else DNSError(f"lookup {fqdn}: {last}")


def lookup_srv(service: str, proto: str, name: str, conf: ResolvConf | None = None) -> list[SRV]:
    """Go's ``net.LookupSRV`` records (unsorted); raises ``DNSError`` on failure.

    ``_service._proto.name`` is queried, or ``name`` itself when both are empty.
    """
    target = name if not service and not proto else f"_{service}._{proto}.{name}"
    if not is_domain_name(target):
        raise _NotFound(f"lookup {target}: no such host")
    conf = ResolvConf.load() if conf is None else conf
    error: DNSError = _NotFound(f"lookup {target}: no such host")
    for fqdn in conf.name_list(target):
        try:
            answer = _try_one_name(conf, fqdn)
        except DNSError as exc:  # Go tries every candidate name, whatever the error
            error = exc
            continue
        records = []
        for rtype, msg, off in answer.records:
            if rtype != _TYPE_SRV:
                continue
            try:
                priority, weight, port = struct.unpack(">HHH", msg[off : off + 6])
            except struct.error as exc:
                raise DNSError(f"lookup {target}: cannot unmarshal DNS message") from exc
            records.append(SRV(_read_name(msg, off + 6)[0], port, priority, weight))
        return records
    raise error


def go_ip_string(address: str) -> str:
    """Go's ``IP.String()``: no zone, an IPv4-mapped IPv6 address as a dotted quad."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)


def lookup_ip(host: str) -> list[str]:
    """Go's ``net.LookupIP(host)`` as strings, unsorted; raises OSError on failure."""
    if not host:  # Go refuses an empty name before asking anyone
        raise DNSError("lookup : no such host")
    infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return [go_ip_string(str(info[4][0])) for info in infos]

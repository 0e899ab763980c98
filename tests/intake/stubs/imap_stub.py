"""A minimal IMAP4rev1 server: enough for imaplib's LOGIN, SELECT/EXAMINE, UID SEARCH/FETCH.

It serves one mailbox of (uid, RFC 822 bytes) with a UIDVALIDITY; tests may
change both between runs and make the next connections fail to exercise retries.
"""

from __future__ import annotations

import re
import shlex
import socketserver
import threading
from dataclasses import dataclass, field


@dataclass
class Mailbox:
    """State shared with the test."""

    user: str = "cur@example.ru"
    password: str = "pa55word"
    uidvalidity: int = 1700000001
    messages: list[tuple[int, bytes]] = field(default_factory=list)
    fail_connections: int = 0  # next N connections get BYE at once
    commands: list[str] = field(default_factory=list)

    def add(self, uid: int, data: bytes) -> None:
        """Deliver a message with this UID."""
        self.messages.append((uid, data))


def _uid_set(spec: str, uids: list[int]) -> list[int]:
    """Resolve an IMAP UID set ("1,3,5:*") against the existing UIDs."""
    top = max(uids, default=0)
    chosen: set[int] = set()
    for part in spec.split(","):
        if ":" in part:
            lo_s, hi_s = part.split(":")
            lo = top if lo_s == "*" else int(lo_s)
            hi = top if hi_s == "*" else int(hi_s)
            lo, hi = min(lo, hi), max(lo, hi)
            found = [u for u in uids if lo <= u <= hi]
            # RFC 3501: "N:*" includes the highest UID even when it is below N.
            if hi_s == "*" and not found and uids:
                found = [top]
            chosen.update(found)
        else:
            chosen.add(top if part == "*" else int(part))
    return sorted(u for u in chosen if u in uids)


class ImapStub:
    """Start with ``with ImapStub(mailbox) as imap:``; ``imap.port`` to connect."""

    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox
        box = mailbox

        class Handler(socketserver.StreamRequestHandler):
            def send(self, line: str | bytes) -> None:
                data = line if isinstance(line, bytes) else line.encode()
                self.wfile.write(data + b"\r\n")

            def handle(self) -> None:
                if box.fail_connections > 0:
                    box.fail_connections -= 1
                    self.send("* BYE server busy, try later")
                    return
                self.send("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] stub ready")
                authed = False
                selected = False
                while True:
                    line = self.rfile.readline()
                    if not line:
                        return
                    text = line.decode("utf-8", "replace").rstrip("\r\n")
                    tag, _, rest = text.partition(" ")
                    command, _, args = rest.partition(" ")
                    command = command.upper()
                    box.commands.append(command if command != "UID" else f"UID {args.split()[0]}")
                    if command == "CAPABILITY":
                        self.send("* CAPABILITY IMAP4rev1 AUTH=PLAIN")
                        self.send(f"{tag} OK CAPABILITY completed")
                    elif command == "LOGIN":
                        user, password = shlex.split(args)[:2]
                        if (user, password) == (box.user, box.password):
                            authed = True
                            self.send(f"{tag} OK LOGIN completed")
                        else:
                            self.send(f"{tag} NO [AUTHENTICATIONFAILED] invalid credentials")
                    elif command in ("SELECT", "EXAMINE") and authed:
                        selected = True
                        self.send("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)")
                        self.send(f"* {len(box.messages)} EXISTS")
                        self.send("* 0 RECENT")
                        self.send(f"* OK [UIDVALIDITY {box.uidvalidity}] UIDs valid")
                        mode = "READ-ONLY" if command == "EXAMINE" else "READ-WRITE"
                        self.send(f"{tag} OK [{mode}] {command} completed")
                    elif command == "UID" and selected:
                        self._uid(tag, args)
                    elif command == "NOOP":
                        self.send(f"{tag} OK NOOP completed")
                    elif command == "LOGOUT":
                        self.send("* BYE logging out")
                        self.send(f"{tag} OK LOGOUT completed")
                        return
                    else:
                        self.send(f"{tag} BAD command unknown or not allowed now")

            def _uid(self, tag: str, args: str) -> None:
                sub, _, rest = args.partition(" ")
                uids = [u for u, _ in box.messages]
                if sub.upper() == "SEARCH":
                    match = re.search(r"UID (\S+)", rest, re.IGNORECASE)
                    found = _uid_set(match.group(1), uids) if match else uids
                    self.send("* SEARCH " + " ".join(map(str, found)))
                    self.send(f"{tag} OK SEARCH completed")
                elif sub.upper() == "FETCH":
                    spec = rest.split(" ", 1)[0]
                    for uid in _uid_set(spec, uids):
                        seq = uids.index(uid) + 1
                        data = dict(box.messages)[uid]
                        head = f"* {seq} FETCH (UID {uid} BODY[] {{{len(data)}}}"
                        self.wfile.write(head.encode() + b"\r\n" + data + b")\r\n")
                    self.send(f"{tag} OK FETCH completed")
                else:
                    self.send(f"{tag} BAD unknown UID command")

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def __enter__(self) -> ImapStub:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

#!/usr/bin/python3
"""A real SMTP server for the tests (`tests/support/smtp.rs` starts and stops it).

Usage: smtp_server.py DIR [CERT KEY]

Listens on 127.0.0.1, on a free port, and prints that port on its first line of output. Each
message it accepts is written whole (raw RFC 5322, as received) to DIR/msg-NNNNNN.eml, written
to a temporary name first and then renamed, so a reader never sees half a message. While the
file DIR/refuse exists every message gets `451` (a temporary refusal) and DIR/refused-NNNNNN is
created for each; while DIR/reject exists, the same with `550` (a permanent refusal). The
server exits when its standard input closes, so it never outlives the
test process that started it, however that process ends. Given a certificate and its key
(PEM files), it offers STARTTLS with them.

Uses aiosmtpd from Debian's python3-aiosmtpd package.
"""

import asyncio
import os
import ssl
import sys

from aiosmtpd.smtp import SMTP


class Handler:
    def __init__(self, directory):
        self.directory = directory
        self.received = 0
        self.refused = 0

    def _create(self, name, content):
        temporary = os.path.join(self.directory, "." + name + ".tmp")
        with open(temporary, "wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        os.rename(temporary, os.path.join(self.directory, name))

    async def handle_DATA(self, server, session, envelope):
        if os.path.exists(os.path.join(self.directory, "reject")):
            self.refused += 1
            self._create("refused-%06d" % self.refused, b"")
            return "550 5.7.1 Rejected for the test"
        if os.path.exists(os.path.join(self.directory, "refuse")):
            self.refused += 1
            self._create("refused-%06d" % self.refused, b"")
            return "451 4.3.0 Refused for the test: try again later"
        self.received += 1
        self._create("msg-%06d.eml" % self.received, envelope.original_content)
        return "250 2.0.0 OK"


def main():
    if len(sys.argv) not in (2, 4):
        sys.exit("usage: smtp_server.py DIR [CERT KEY]")
    handler = Handler(sys.argv[1])
    tls = None
    if len(sys.argv) == 4:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(sys.argv[2], sys.argv[3])
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(
        loop.create_server(
            lambda: SMTP(handler, hostname="smtp.test", tls_context=tls, loop=loop),
            host="127.0.0.1",
            port=0,
        )
    )
    print(server.sockets[0].getsockname()[1], flush=True)

    stdin = sys.stdin.fileno()

    def on_stdin():
        if not os.read(stdin, 4096):
            loop.stop()

    loop.add_reader(stdin, on_stdin)
    try:
        loop.run_forever()
    finally:
        server.close()


if __name__ == "__main__":
    main()

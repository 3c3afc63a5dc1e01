#!/usr/bin/env python3
"""A real SMTP server for the channel tests (aiosmtpd, Debian python3-aiosmtpd).

    python3 smtp_sink.py DIR [--tls CERT KEY] [--auth USER PASSWORD]

Listens on a free loopback port, writes its number to DIR/port once ready,
and saves every message it accepts as DIR/<n>.eml (with the envelope in
DIR/<n>.rcpt, one recipient per line, and how it came in DIR/<n>.session:
"tls=yes|no login=NAME") until it is terminated. With --tls it offers
STARTTLS and takes no mail without it; with --auth it takes mail only
after AUTH (PLAIN or LOGIN) with that user and password, over TLS.
"""
import os
import signal
import socket
import sys
import threading

import ssl

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Save:
    def __init__(self, where):
        self.where = where
        self.n = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.n += 1
            n = self.n
        base = os.path.join(self.where, str(n))
        with open(base + ".rcpt.part", "w") as f:
            f.write("\n".join(envelope.rcpt_tos) + "\n")
        os.rename(base + ".rcpt.part", base + ".rcpt")
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else ""
        with open(base + ".session", "w") as f:
            f.write("tls=%s login=%s\n" % ("yes" if session.ssl else "no", login))
        with open(base + ".eml.part", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(base + ".eml.part", base + ".eml")
        return "250 Message accepted for delivery"


def main():
    where = sys.argv[1]
    args = sys.argv[2:]
    options = {}
    if "--tls" in args:
        at = args.index("--tls")
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args[at + 1], args[at + 2])
        options.update(tls_context=context, require_starttls=True)
    if "--auth" in args:
        at = args.index("--auth")
        user, password = args[at + 1].encode(), args[at + 2].encode()

        def check(server, session, envelope, mechanism, auth_data):
            ok = isinstance(auth_data, LoginPassword) and auth_data.login == user and auth_data.password == password
            return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

        options.update(authenticator=check, auth_required=True, auth_require_tls=True)
    # aiosmtpd checks its listener by connecting to the port it was given,
    # so it needs a number: a free one, asked of the kernel.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Save(where), hostname="127.0.0.1", port=port, **options)
    controller.start()
    with open(os.path.join(where, "port.part"), "w") as f:
        f.write(str(port))
    os.rename(os.path.join(where, "port.part"), os.path.join(where, "port"))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()

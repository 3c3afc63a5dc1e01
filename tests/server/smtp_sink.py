#!/usr/bin/env python3
"""A real SMTP server for the channel tests (aiosmtpd, Debian python3-aiosmtpd).

    python3 smtp_sink.py DIR

Listens on a free loopback port, writes its number to DIR/port once ready,
and saves every message it accepts as DIR/<n>.eml (with the envelope in
DIR/<n>.rcpt, one recipient per line) until it is terminated.
"""
import os
import signal
import socket
import sys
import threading

from aiosmtpd.controller import Controller


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
        with open(base + ".eml.part", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(base + ".eml.part", base + ".eml")
        return "250 Message accepted for delivery"


def main():
    where = sys.argv[1]
    # aiosmtpd checks its listener by connecting to the port it was given,
    # so it needs a number: a free one, asked of the kernel.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Save(where), hostname="127.0.0.1", port=port)
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

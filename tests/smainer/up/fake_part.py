"""A stand-in for a part of the network, driven by its arguments (the supervisor's tests).

fake_part.py serve PORT            answer 200 on http://127.0.0.1:PORT/ until signalled
fake_part.py say TEXT              print TEXT, then wait until signalled
fake_part.py exit CODE             exit at once with CODE
fake_part.py flaky COUNTER N       exit 3 the first N times (counted in COUNTER), then wait
fake_part.py stubborn              ignore SIGINT (SIGTERM still ends it)
fake_part.py child                 start a grandchild in the same group, then wait
"""

from __future__ import annotations

import http.server
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path


def wait() -> None:
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    while not stop.wait(0.1):
        pass


def main() -> int:
    what, *rest = sys.argv[1:]
    if what == "serve":

        class Ok(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        server = http.server.HTTPServer(("127.0.0.1", int(rest[0])), Ok)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        wait()
        server.shutdown()
    elif what == "say":
        print(rest[0], flush=True)
        wait()
    elif what == "exit":
        print(f"exiting with {rest[0]}", flush=True)
        return int(rest[0])
    elif what == "flaky":
        counter = Path(rest[0])
        runs = int(counter.read_text()) if counter.exists() else 0
        counter.write_text(str(runs + 1))
        if runs < int(rest[1]):
            return 3
        print("steady", flush=True)
        wait()
    elif what == "stubborn":
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        print("ignoring SIGINT", flush=True)
        while True:
            time.sleep(0.1)
    elif what == "child":
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        print("grandchild started", flush=True)
        wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())

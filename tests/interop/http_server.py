"""`bulkhead serve --http 127.0.0.1:0` for the interop checks: started, its bound address
read from its log, stopped at the end. Shared by python_sdk.py and inspector.py."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import time


@contextlib.contextmanager
def serving(binary: str, scratch: str, *flags: str):
    """Yields the MCP URL of a server started with `flags`, logging to `scratch`."""
    log_path = os.path.join(scratch, "http.log")
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            [binary, "serve", "--http", "127.0.0.1:0", *flags],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log,
            env={**os.environ, "BULKHEAD_LOG": "info"},
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            with open(log_path) as log:
                found = re.search(r"serving MCP over HTTP addr=(\S+)", log.read())
            if found:
                break
            if server.poll() is not None or time.monotonic() > deadline:
                with open(log_path) as log:
                    raise RuntimeError(f"the HTTP server did not start:\n{log.read()}")
            time.sleep(0.05)
        yield f"http://{found.group(1)}/mcp"
    finally:
        server.terminate()
        server.wait(timeout=10)

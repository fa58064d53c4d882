"""Drives headless Chromium through chromedriver's WebDriver HTTP API (standard library only).

usage: python browser_driver.py CHROMEDRIVER_PORT PAGE_URL [EXPECTED_TITLE NAME]
Opens PAGE_URL in a fresh headless profile, waits for the page's title to become "done",
prints the page's PASS/FAIL lines, exits non-zero if any check failed or the page hung.
With EXPECTED_TITLE, only waits for that title and reports one check called NAME.
"""
import json
import os
import sys
import tempfile
import time
import urllib.request

PORT, PAGE = sys.argv[1], sys.argv[2]
EXPECTED, NAME = (sys.argv[3], sys.argv[4]) if len(sys.argv) > 4 else ("done", None)
BASE = f"http://127.0.0.1:{PORT}"


def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(BASE + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read() or b"{}").get("value")


profile = tempfile.mkdtemp(prefix="chromium-profile-")
args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", f"--user-data-dir={profile}"]
# Extra flags from the environment, e.g. --ignore-certificate-errors for a test certificate.
args += os.environ.get("CHROMIUM_EXTRA_ARGS", "").split()
session = call("POST", "/session", {"capabilities": {"alwaysMatch": {
    "browserName": "chrome",
    "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": args}}}})["sessionId"]
try:
    call("POST", f"/session/{session}/url", {"url": PAGE})
    deadline = time.time() + 120
    title = None
    while title != EXPECTED:
        if time.time() > deadline:
            print(f"FAIL chromium: {NAME or 'test page'}: title {title!r}, not {EXPECTED!r}, after 120 s")
            break
        time.sleep(0.2)
        title = call("GET", f"/session/{session}/title")
    if NAME is not None:
        results = f"PASS chromium: {NAME}\n" if title == EXPECTED else "FAIL"
    else:
        results = call("POST", f"/session/{session}/execute/sync",
                       {"script": "return document.getElementById('results').textContent", "args": []})
    print(results if results != "FAIL" else "", end="")
finally:
    call("DELETE", f"/session/{session}")
sys.exit(1 if "FAIL" in (results or "FAIL") else 0)

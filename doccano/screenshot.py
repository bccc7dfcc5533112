"""Screenshot of one document in the local doccano, taken in headless Chromium (the
README's docs/doccano.png):

    .venv/bin/python doccano/screenshot.py --example s000-015 [--project NAME] [--out docs/doccano.png]

Logs in through the API (a Django session cookie), hands the cookie to Chromium, opens
the document's annotation page and saves a PNG. Chromium is driven over the DevTools
protocol on a pipe (--remote-debugging-pipe), so nothing beyond Debian's `chromium` is
needed. Server, user and project come from the DOCCANO_* variables (pipeline/doccano/config.py).
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.doccano.client import connect, find_project  # noqa: E402
from pipeline.doccano.config import DoccanoConfig  # noqa: E402
from pipeline.doccano.server import server_url  # noqa: E402


class Chromium:
    """A headless Chromium and one page, spoken to over the DevTools pipe."""

    def __init__(self, width: int, height: int) -> None:
        self.profile = tempfile.TemporaryDirectory(prefix="doccano-shot-")
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()

        def wire() -> None:  # Chromium reads commands on fd 3 and writes replies on fd 4
            os.dup2(to_chrome_r, 3)
            os.dup2(from_chrome_w, 4)

        argv = [
            "chromium", "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--remote-debugging-pipe", f"--user-data-dir={self.profile.name}", f"--window-size={width},{height}",
            "--lang=en-US", "about:blank",
        ]  # fmt: skip
        self.process = subprocess.Popen(
            argv, preexec_fn=wire, close_fds=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.buffer = b""
        self.next_id = 0
        self.session: str | None = None
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.call("Emulation.setDeviceMetricsOverride", {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})

    def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if self.session and not method.startswith("Target."):
            message["sessionId"] = self.session
        os.write(self.to_chrome, json.dumps(message).encode() + b"\0")
        while True:
            while b"\0" not in self.buffer:
                chunk = os.read(self.from_chrome, 1 << 20)
                if not chunk:
                    raise RuntimeError("chromium closed the DevTools pipe")
                self.buffer += chunk
            raw, self.buffer = self.buffer.split(b"\0", 1)
            reply = json.loads(raw)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def evaluate(self, expression: str) -> Any:
        return self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})["result"].get("value")

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        self.profile.cleanup()


def wait_for(chrome: Chromium, condition: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not chrome.evaluate(f"!!(document.body && {condition})"):
        if time.monotonic() > deadline:
            where = chrome.evaluate("location.href + ' | ' + (document.body ? document.body.innerText.slice(0, 200) : '')")
            sys.exit(f"gave up after {timeout:.0f} s waiting for {condition}; the page shows: {where}")
        time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--example", required=True, help="our example id of the document to show")
    parser.add_argument("--project", help="doccano project (default: $DOCCANO_PROJECT)")
    parser.add_argument("--out", type=Path, default=Path("docs/doccano.png"))
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=900)
    args = parser.parse_args()

    cfg = DoccanoConfig.from_env()
    url = cfg.url if os.environ.get("DOCCANO_URL") else server_url(cfg)
    client = connect(url, cfg.admin, cfg.password)
    project = find_project(client, args.project or cfg.project)
    if project is None:
        sys.exit(f"no project {args.project or cfg.project!r} at {url}")
    examples = list(client.list_examples(project.id))
    page = next((i for i, ex in enumerate(examples, 1) if ex.meta.get("example_id") == args.example), None)
    if page is None:
        sys.exit(f"{args.example} is not in project {project.name!r}")
    text = examples[page - 1].text or ""

    session = requests.Session()
    session.post(f"{url}/v1/auth/login/", json={"username": cfg.admin, "password": cfg.password}).raise_for_status()

    chrome = Chromium(args.width, args.height)
    try:
        for cookie in session.cookies:
            chrome.call("Network.setCookie", {"name": cookie.name, "value": cookie.value, "url": url})
        # the annotation page renders only when reached inside the app, so load the
        # project's home page and let the app's router go on from there
        chrome.call("Page.navigate", {"url": f"{url}/projects/{project.id}"})
        route = json.dumps(f"/projects/{project.id}/sequence-labeling?page={page}&q=&isChecked=")
        wait_for(chrome, "window.$nuxt && window.$nuxt.$router && document.body.innerText.includes('Start Annotation')")
        chrome.evaluate(f"window.$nuxt.$router.push({route})")
        wait_for(chrome, f"document.body.innerText.includes({json.dumps(text.strip()[:8])})")
        time.sleep(2)  # let the labels and relation arrows settle
        shot = chrome.call("Page.captureScreenshot", {"format": "png"})
    finally:
        chrome.close()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(base64.b64decode(shot["data"]))
    print(f"{args.out}: {args.out.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()

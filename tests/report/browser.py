"""Renders a page in headless Chromium over the DevTools protocol: console and script errors,
failed loads, a few layout facts, and a full-page PNG screenshot."""
import base64
import dataclasses
import json
import os
import pathlib
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from typing import Dict, List

import websocket

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--remote-debugging-port=0", "--window-size=1400,1000", "--hide-scrollbars"]

_LAYOUT = """JSON.stringify({
  text: document.body.innerText.length,
  height: document.documentElement.scrollHeight,
  charts: [...document.querySelectorAll('svg.chart')].filter(
      s => s.getBoundingClientRect().width > 50 && s.getBoundingClientRect().height > 50).length,
  sections: [...document.querySelectorAll('section')].map(s => s.id)})"""


@dataclasses.dataclass
class Rendered:
    errors: List[str]
    layout: Dict
    screenshot: bytes


class _Session:
    def __init__(self, url: str):
        self.ws = websocket.create_connection(url, timeout=60, suppress_origin=True)
        self.next_id = 0
        self.events: List[Dict] = []

    def call(self, method: str, **params) -> Dict:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, method: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == method for e in self.events):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {method} within {timeout}s")
            self.events.append(json.loads(self.ws.recv()))


def _errors(events: List[Dict]) -> List[str]:
    found = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            found.append("exception: " + (details.get("exception", {}).get("description")
                                          or details.get("text", "")))
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            found.append("console: " + json.dumps(params.get("args", []))[:500])
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            found.append("log: " + params["entry"].get("text", ""))
        elif method == "Network.loadingFailed":
            found.append("load failed: " + params.get("errorText", ""))
    return found


def _devtools_port(profile: pathlib.Path, process: subprocess.Popen) -> int:
    deadline = time.monotonic() + 60
    marker = profile / "DevToolsActivePort"
    while time.monotonic() < deadline:
        if marker.exists() and marker.read_text().strip():
            return int(marker.read_text().split()[0])
        if process.poll() is not None:
            raise RuntimeError(f"chromium exited with {process.returncode}")
        time.sleep(0.1)
    raise TimeoutError("chromium did not open its DevTools port")


def render(path: pathlib.Path) -> Rendered:
    """Loads `path` (file://) and returns what the page did and looks like."""
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile_dir:
        profile = pathlib.Path(profile_dir)
        process = subprocess.Popen([CHROMIUM, *FLAGS, f"--user-data-dir={profile}",
                                    "about:blank"], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            port = _devtools_port(profile, process)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=30) as r:
                pages = [t for t in json.load(r) if t.get("type") == "page"]
            session = _Session(pages[0]["webSocketDebuggerUrl"])
            for domain in ("Runtime", "Log", "Page", "Network"):
                session.call(f"{domain}.enable")
            session.call("Page.navigate", url=path.resolve().as_uri())
            session.wait_for("Page.loadEventFired")
            layout = json.loads(session.call("Runtime.evaluate", expression=_LAYOUT,
                                             returnByValue=True)["result"]["value"])
            size = session.call("Page.getLayoutMetrics")["cssContentSize"]
            shot = session.call("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                                clip={"x": 0, "y": 0, "width": size["width"],
                                      "height": min(size["height"], 16000), "scale": 1})
            session.ws.close()
            return Rendered(_errors(session.events), layout, base64.b64decode(shot["data"]))
        finally:
            _stop_process_group(process)


def _stop_process_group(process: subprocess.Popen) -> None:
    """Stops chromium and every helper it forked (renderer, crashpad, zygote): they keep writing
    to the profile after the browser process exits, and the profile cannot be removed under them."""
    group = process.pid
    for sig, grace in ((signal.SIGTERM, 20), (signal.SIGKILL, 20)):
        try:
            os.killpg(group, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if process.poll() is not None and not _group_alive(group):
                return
            time.sleep(0.1)
    process.wait()


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True

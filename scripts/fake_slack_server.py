"""Start the project's fake Slack Web API (tests/slack/slack_fake.py) on 127.0.0.1.

usage: fake_slack_server.py SRC_DIR URL_FILE   (used by scripts/check-image.sh)
Writes the Web API base URL to URL_FILE once listening, logs each call it receives, and runs
until SIGTERM/SIGINT.
"""

import asyncio
import contextlib
import importlib.util
import signal
import sys
from pathlib import Path


async def main(src: Path, url_file: Path) -> None:
    spec = importlib.util.spec_from_file_location(
        "slack_fake", src / "tests" / "slack" / "slack_fake.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    fake = module.FakeSlack()
    await fake.start()
    url_file.write_text(fake.base_url)
    print(f"fake slack listening at {fake.base_url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    seen = 0
    while not stop.is_set():
        for call in fake.calls[seen:]:
            token_ok = call.token == module.BOT_TOKEN
            print(f"fake slack: {call.method} token_ok={token_ok}", flush=True)
        seen = len(fake.calls)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.2)
    await fake.stop()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), Path(sys.argv[2])))

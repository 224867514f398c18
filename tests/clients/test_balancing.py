"""Client-side load balancing: round_robin spreads calls, health checks steer around
a server that reports NOT_SERVING (draining, or not warm yet)."""

from __future__ import annotations

import time
from typing import Any

from dragoman.clients import TranslationClient


def _requests(apps: list[Any]) -> list[int]:
    return [app.engine.stats.requests for app in apps]


def test_round_robin_spreads_and_health_checks_steer(two_apps, served_model) -> None:
    first, _ = two_apps
    addresses = [f"127.0.0.1:{app.port}" for app in two_apps]
    with TranslationClient(addresses, health_check_service="") as client:
        before = _requests(two_apps)
        for n in range(8):
            client.translate_text(f"Hello {n}.", to=served_model.target)
        spread = [after - b for after, b in zip(_requests(two_apps), before, strict=True)]
        assert all(count >= 2 for count in spread), spread  # both servers took calls

        first.health.set_not_serving()
        deadline = time.monotonic() + 120  # the Watch stream tells the client promptly
        while time.monotonic() < deadline:
            before = _requests(two_apps)
            for n in range(6):
                client.translate_text(f"Bye {n}.", to=served_model.target)
            counts = [after - b for after, b in zip(_requests(two_apps), before, strict=True)]
            if counts[0] == 0:
                break
            time.sleep(0.1)
        assert counts[0] == 0 and counts[1] >= 6, counts

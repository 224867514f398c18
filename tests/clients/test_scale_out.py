"""Scale-out: three `dragoman serve` processes behind client-side round_robin.

64 concurrent streams run through one Python client for a bounded time while one server
is killed with SIGKILL and another stopped with SIGTERM (graceful drain). Every segment
must get exactly one final result (answered, or sent again on a new stream and answered
there), and the survivor's memory must stay flat.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from dragoman.clients import RetryPolicy, Segment, TranslationClient

STREAMS = 64
UNARY_THREADS = 4  # plus unary TranslateText calls in a loop
RUN_S = 24.0  # traffic time; the kills happen at a third and at half of it
PACE_S = 0.05  # pause of a stream between segments: load enough, CPU left for others
TEXTS = ["Hello world.", "The cat eats.", "My friend reads a book.", "The red house."]


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for pid {pid}")


@dataclass
class StreamTally:
    """What one client stream sent and got back."""

    sent: int = 0
    finals: int = 0
    empty: int = 0
    ids: list[str] = field(default_factory=list)
    error: BaseException | None = None


def _drive(client: TranslationClient, index: int, stop: threading.Event, tally: StreamTally,
           target: str) -> None:  # fmt: skip
    """One stream: a segment, wait for its final, the next one, until `stop`."""
    answered = threading.Semaphore(0)

    def segments() -> Iterator[Segment]:
        while not stop.is_set():
            yield Segment(TEXTS[(index + tally.sent) % len(TEXTS)], f"{index}-{tally.sent}")
            tally.sent += 1
            if not answered.acquire(timeout=180):
                raise TimeoutError(f"stream {index}: no final result within 180 s")
            stop.wait(PACE_S)

    try:
        for result in client.translate_stream(segments(), to=target, source="eng_Latn"):
            if result.is_final:
                tally.finals += 1
                tally.empty += not result.text
                tally.ids.append(result.segment_id)
                answered.release()
    except BaseException as error:
        tally.error = error


def _unary(client: TranslationClient, stop: threading.Event, tally: StreamTally,
           target: str) -> None:  # fmt: skip
    """Unary calls alongside the streams, until `stop`."""
    try:
        while not stop.is_set():
            tally.sent += 1
            result = client.translate(TEXTS, to=target, source="eng_Latn")
            tally.finals += 1
            tally.empty += sum(not r.text for r in result)
            stop.wait(PACE_S)
    except BaseException as error:
        tally.error = error


@pytest.fixture
def servers(served_model, tmp_path: Path) -> Iterator[list[tuple[subprocess.Popen[bytes], str]]]:
    """Three `dragoman serve` processes on loopback, SERVING."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRAGOMAN_")}
    procs = []
    for i, port in enumerate(_free_ports(3)):
        command = [
            sys.executable, "-m", "dragoman.server.cli",
            "--model", f"{served_model.name}={served_model.path}", "--device", "cpu",
            "--host", "127.0.0.1", "--port", str(port), "--intra-threads", "1",
            # A drain lasts as long as the work in flight (streams end between two
            # segments): a long grace period costs nothing, and on a busy machine a
            # short one cut the last calls (CANCELLED).
            "--workers", "100", "--grace-period", "120", "--log-format", "text",
            # One client process opens every stream: it may use every slot.
            "--max-rpcs-per-caller", "100", "--max-streams-per-caller", "100",
            "--log-level", "WARNING", "--no-http",
        ]  # fmt: skip
        log = (tmp_path / f"server-{i}.log").open("wb")
        proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        procs.append((proc, f"127.0.0.1:{port}"))
    try:
        for proc, address in procs:
            with TranslationClient(address) as probe:
                try:
                    probe.wait_until_serving(timeout=300)
                except TimeoutError:
                    log_text = tmp_path / f"server-{procs.index((proc, address))}.log"
                    pytest.fail(f"{address} never SERVING:\n{log_text.read_text()[-3000:]}")
        yield procs
    finally:
        for proc, _ in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=30)


@pytest.mark.timeout(900)  # bounded waits above are generous for a busy 2-core machine
def test_round_robin_survives_sigkill_and_sigterm(servers, served_model) -> None:
    (killed, _), (drained, _), (survivor, _) = servers
    client = TranslationClient(
        [address for _, address in servers],
        timeout=180,
        # Skip a server as soon as it reports NOT_SERVING (it drains): calls still sent
        # to it when it closes its connections would be CANCELLED, not retried.
        health_check_service="",
        retry=RetryPolicy(max_attempts=10, initial_backoff_s=0.05, max_backoff_s=1.0),
    )
    stop = threading.Event()
    tallies = [StreamTally() for _ in range(STREAMS)]
    threads = [
        threading.Thread(target=_drive, args=(client, i, stop, tallies[i], served_model.target))
        for i in range(STREAMS)
    ]
    unary = [StreamTally() for _ in range(UNARY_THREADS)]
    threads += [
        threading.Thread(target=_unary, args=(client, stop, tally, served_model.target))
        for tally in unary
    ]
    rss: list[float] = []
    start = time.monotonic()
    for thread in threads:
        thread.start()
    finals_at_kill = 0
    terminated = False  # SIGTERM once: a second signal stops a draining server hard
    while (elapsed := time.monotonic() - start) < RUN_S:
        time.sleep(0.5)
        rss.append(_rss_mb(survivor.pid))
        if killed.poll() is None and elapsed >= RUN_S / 3:
            finals_at_kill = sum(t.finals for t in tallies)
            killed.send_signal(signal.SIGKILL)
        if not terminated and elapsed >= RUN_S / 2:
            drained.send_signal(signal.SIGTERM)
            terminated = True
    stop.set()
    for thread in threads:
        thread.join(timeout=300)
    client.close()

    assert not any(thread.is_alive() for thread in threads), "a stream never finished"
    errors = [(i, repr(t.error)) for i, t in enumerate(tallies + unary) if t.error is not None]
    assert errors == []
    assert all(t.finals == t.sent and t.empty == 0 for t in unary), unary
    # No segment lost, none answered twice: one final per segment sent, ids as sent.
    for index, tally in enumerate(tallies):
        assert tally.finals == tally.sent, f"stream {index}: {tally}"
        assert tally.ids == [f"{index}-{n}" for n in range(tally.sent)]
        assert tally.empty == 0
    total = sum(t.finals for t in tallies)
    assert finals_at_kill > 0 and total > finals_at_kill  # traffic before and after
    assert killed.wait(timeout=10) == -signal.SIGKILL
    assert drained.wait(timeout=180) == 0  # drained and exited cleanly
    assert client.stats.stream_reconnects >= 1  # the kills really cut streams
    assert survivor.poll() is None
    # Flat memory: the survivor's RSS at the end is within 25% (+32 MB) of the
    # first sample taken under full traffic, though it served everyone at the end.
    warm = rss[len(rss) // 4]
    print(f"segments {total}, unary calls {sum(t.finals for t in unary)}, "
          f"retries {client.stats.retries}, reconnects {client.stats.stream_reconnects}, "
          f"RSS warm {warm:.0f} MB, peak {max(rss):.0f} MB, end {rss[-1]:.0f} MB")  # fmt: skip
    assert rss[-1] <= warm * 1.25 + 32, rss

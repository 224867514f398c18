"""HTTP (LibreTranslate /translate) vs gRPC (TranslateText) on one server, 1 and 32 clients.

    .venv/bin/python bench/http_vs_grpc.py [--model demo|DIR] [--clients 1 32]
        [--requests 256] [--threads N]

Starts one `dragoman serve` (translation cache off, batching on) with both front ends on
the same model, and drives it with N concurrent clients sending one sentence per request
back to back: gRPC clients each on their own channel, HTTP clients each on their own
keep-alive connection posting LibreTranslate JSON (`{"q", "source", "target"}`). Both use
the same sentences and the same default decoding. Prints sentences/s and latency side by
side, and the ratio HTTP/gRPC (the issue's target: >= 0.9x at 32 clients); saves the
figures in bench/results/http_vs_grpc.json.
"""

from __future__ import annotations

import argparse
import http.client
import json
from collections.abc import Callable
from typing import Any

from server_batching import RESULTS, Server, _languages, drive, drive_clients, sentences

from dragoman.translation.v1 import translation_service_pb2 as pb


def drive_http(port: int, clients: int, texts: list[str], source: str, target: str) -> dict:
    """LibreTranslate POST /translate (JSON), one sentence per request, one keep-alive
    connection per client."""
    headers = {"Content-Type": "application/json"}

    def open_client() -> tuple[Callable[[str], None], Callable[[], None]]:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        connection.connect()

        def send(text: str) -> None:
            body = json.dumps({"q": text, "source": source, "target": target})
            connection.request("POST", "/translate", body, headers)
            response = connection.getresponse()
            payload = response.read()
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status}: {payload[:200]!r}")

        return send, connection.close

    return drive_clients(clients, texts, open_client)


def run(args: argparse.Namespace) -> dict[str, list[dict[str, Any]]]:
    """Both front ends at every concurrency level, on one server."""
    texts = sentences(args.requests)
    options = pb.TranslationOptions()
    server = Server(args.model, args.threads, batching=True, http=True)
    results: dict[str, list[dict[str, Any]]] = {"grpc": [], "http": []}
    try:
        assert server.http_port is not None
        source, target = _languages(server.port)  # the pair gRPC's drive() uses
        drive(server.port, 2, sentences(8), options)  # warm-up, both paths
        drive_http(server.http_port, 2, sentences(8), source, target)
        for clients in args.clients:
            results["grpc"].append(drive(server.port, clients, texts, options))
            results["http"].append(drive_http(server.http_port, clients, texts, source, target))
    finally:
        server.stop()
    return results


def report(results: dict[str, list[dict[str, Any]]]) -> str:
    """A table of both front ends and their ratio."""
    lines = [
        f"{'clients':>7}  {'gRPC sent/s':>11}  {'HTTP sent/s':>11}  {'HTTP/gRPC':>9}  "
        f"{'gRPC p50 ms':>11}  {'HTTP p50 ms':>11}"
    ]
    for grpc_row, http_row in zip(results["grpc"], results["http"], strict=True):
        ratio = http_row["sentences_per_s"] / grpc_row["sentences_per_s"]
        lines.append(
            f"{grpc_row['clients']:>7}  {grpc_row['sentences_per_s']:>11.1f}  "
            f"{http_row['sentences_per_s']:>11.1f}  {ratio:>8.2f}x  "
            f"{grpc_row['p50_ms']:>11.1f}  {http_row['p50_ms']:>11.1f}"
        )
    return "\n".join(lines)


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="demo", help="model directory or `demo`")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 32])
    parser.add_argument("--requests", type=int, default=256, help="sentences per measurement")
    parser.add_argument("--threads", type=int, default=0, help="intra threads (0 = CT2's)")
    return parser.parse_args()


def main() -> None:
    """Runs the comparison, prints it, saves bench/results/http_vs_grpc.json."""
    args = parse_args()
    results = run(args)
    print(report(results))
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = {"model": args.model, "requests": args.requests, "results": results}
    (RESULTS / "http_vs_grpc.json").write_text(json.dumps(payload, indent=2) + "\n")


if __name__ == "__main__":
    main()

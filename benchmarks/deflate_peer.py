"""An echo-style OCPP server on our transport: ``python -m benchmarks.deflate_peer DRIVER``.

``serve()`` on the given driver (``picows`` or ``websockets``), ``--compression deflate``
accepting permessage-deflate; every CALL is answered with ``[3, id, {}]`` (orjson), so the
figure is the transport's cost. Prints ``READY <port>`` once listening.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

import orjson

from benchmarks.processes import raise_fd_limit, run_loop
from ocppnet.transport import Link, LinkOptions, serve


async def on_link(link: Link) -> None:
    async for message in link:
        request = orjson.loads(message)
        await link.send_text(orjson.dumps([3, request[1], {}]))


async def run(driver: str, compression: str | None) -> None:
    options = LinkOptions(driver=driver, compression=compression, ping_interval=None)
    server = await serve(on_link, "127.0.0.1", 0, options=options)
    sys.stdout.write(f"READY {server.port}\n")
    sys.stdout.flush()
    await asyncio.Event().wait()  # until SIGTERM


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("driver", choices=["picows", "websockets"])
    parser.add_argument("--compression", choices=["deflate"])
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    args = parser.parse_args(argv)
    raise_fd_limit()
    run_loop(run(args.driver, args.compression), args.loop)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

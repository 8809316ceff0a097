"""Gateway benchmark (G7): the cost of the durable outbox on the event path, through a real Mosquitto.

Baseline measured in the same run: the same number of events published straight to the broker at
QoS 1, one after the other, each waiting for its PUBACK (the wire alone). Measured: lock events
raised on the emulated lock (firmware + radio model + fsync'ed SQLite outbox + in-order QoS 1
delivery by the gateway) until the hub has received all of them. Also: catching up after an outage
(events raised while the broker was down, delivered once it is back).

    .venv/bin/python bench/bench_gateway.py [--events 500] [--readme]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiomqtt
from rich.console import Console
from rich.table import Table

from readme_block import write_block  # bench/: run as a script, or with bench/ on sys.path
from vakt.broker import BrokerAccounts
from vakt.broker.embedded import free_port
from vakt.broker.mosquitto import write_mosquitto_files
from vakt.gateway.config import GatewayConfig
from vakt.gateway.service import Gateway
from vakt.protocol import Event, Receipt, decode, device_password, encode

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
GW, LK, GW_CODE, LK_CODE, HUB_PW = "GWBENCH1", "LKBENCH1", "GWCODE01", "LKCODE01", "hub-bench"


@contextlib.contextmanager
def mosquitto(folder: Path, port: int) -> Iterator[subprocess.Popen[bytes]]:
    accounts = BrokerAccounts.create(HUB_PW)
    accounts.set_device(GW, device_password(GW_CODE), relayed=[LK])
    conf = write_mosquitto_files(accounts, folder, port)
    proc = subprocess.Popen(["/usr/sbin/mosquitto", "-c", str(conf)], stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            time.sleep(0.05)
        yield proc
    finally:
        proc.kill()
        proc.wait()


@contextlib.asynccontextmanager
async def counting_hub(port: int, counter: list[Event]) -> AsyncIterator[asyncio.Event]:
    ready = asyncio.Event()

    async def run() -> None:
        while True:
            with contextlib.suppress(aiomqtt.MqttError):
                async with aiomqtt.Client("127.0.0.1", port, username="hub", password=HUB_PW) as client:
                    await client.subscribe(f"vakt/v1/{LK}/event", qos=1)
                    ready.set()
                    async for message in client.messages:
                        event = decode(Event, bytes(message.payload))  # type: ignore[arg-type]
                        counter.append(event)
                        # the hub's receipt (G7): the gateway forgets an event only once it is confirmed
                        receipt = encode(Receipt(stored=[event.id]))
                        await client.publish(f"vakt/v1/{LK}/receipt", receipt, qos=0)
            ready.clear()
            await asyncio.sleep(0.05)

    task = asyncio.create_task(run())
    await ready.wait()
    try:
        yield ready
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def until(predicate: object, timeout: float = 120.0) -> None:
    deadline = time.perf_counter() + timeout
    while not predicate():  # type: ignore[operator]
        if time.perf_counter() > deadline:
            raise TimeoutError("benchmark did not finish in time")
        await asyncio.sleep(0.002)


async def baseline(port: int, n: int) -> float:
    received: list[Event] = []
    async with (
        counting_hub(port, received),
        aiomqtt.Client("127.0.0.1", port, username=GW, password=device_password(GW_CODE)) as client,
    ):
        start = time.perf_counter()
        for _ in range(n):
            await client.publish(f"vakt/v1/{LK}/event", encode(Event(source=LK, type="Doorbell")), qos=1)
        await until(lambda: len(received) >= n)
        return time.perf_counter() - start


async def through_gateway(port: int, n: int, data: Path) -> tuple[float, float]:
    received: list[Event] = []
    config = GatewayConfig(
        serial=GW,
        code=GW_CODE,
        mqtt_port=port,
        data_dir=data,
        lock_serial=LK,
        lock_code=LK_CODE,
        boot_seconds=0.0,
        tick_interval=0.05,
    )
    async with counting_hub(port, received), Gateway(config) as gateway:
        await gateway.client.wait_connected(30)
        start = time.perf_counter()
        for _ in range(n):
            gateway.lock_input(LK, "bell")
            await asyncio.sleep(0)
        await until(lambda: len(received) >= n)
        live = time.perf_counter() - start
        # outage: the gateway leaves the network (G3), events pile up on disk, then it comes back
        gateway.hold_function_button(5)
        await until(lambda: not gateway.client.connected.is_set())
        for _ in range(n):
            gateway.lock_input(LK, "bell")
        start = time.perf_counter()
        gateway.panel.plug_cable()
        await until(lambda: len({e.id for e in received}) >= 2 * n)  # a re-send may repeat an id
        catch_up = time.perf_counter() - start
        ids = [e.id for e in received]
        assert len(set(ids)) == 2 * n, "an event was lost"
        return live, catch_up


async def run(n: int) -> list[tuple[str, float, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        with mosquitto(Path(tmp) / "mosquitto", port):
            base = await baseline(port, n)
            live, catch_up = await through_gateway(port, n, Path(tmp) / "gw")
    return [
        ("QoS 1 publish, no outbox (baseline)", base, 1.0),
        ("lock -> radio -> fsync'ed outbox -> broker", live, live / base),
        ("catch-up after an outage (from disk)", catch_up, catch_up / base),
    ]


def render(rows: list[tuple[str, float, float]], n: int) -> str:
    lines = [
        f"Gateway event path (G7), {n} events through Mosquitto (`bench/bench_gateway.py`):",
        "",
        "| path | events/s | ms/event | × baseline time |",
        "|---|---|---|---|",
    ]
    lines += [f"| {name} | {n / t:,.0f} | {1000 * t / n:.2f} | {ratio:.2f} |" for name, t, ratio in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=500)
    ap.add_argument("--readme", action="store_true", help="write the figures into README.md")
    args = ap.parse_args(argv)
    console = Console()
    with console.status(f"sending {args.events} events each way ..."):
        rows = asyncio.run(run(args.events))
    table = Table(title=f"gateway event path, {args.events} events")
    for col in ("path", "events/s", "ms/event", "× baseline time"):
        table.add_column(col)
    for name, t, ratio in rows:
        table.add_row(name, f"{args.events / t:,.0f}", f"{1000 * t / args.events:.2f}", f"{ratio:.2f}")
    console.print(table)
    if args.readme:
        write_block("gateway", render(rows, args.events))
        console.print(f"figures written to {README}")


if __name__ == "__main__":
    main()

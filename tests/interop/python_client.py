"""Python `websockets` as a client against a ferrosocket echo server.

usage: python python_client.py ws://127.0.0.1:PORT
Prints one PASS/FAIL line per check; exits non-zero if any failed.
"""
import asyncio
import json
import sys

from websockets.asyncio.client import connect

URL = sys.argv[1]
failed = 0


def report(name, error=None):
    global failed
    if error is None:
        print(f"PASS python-websockets: {name}", flush=True)
    else:
        failed += 1
        print(f"FAIL python-websockets: {name}: {error!r}", flush=True)


async def check(name, coro):
    try:
        await coro
        report(name)
    except Exception as e:  # noqa: BLE001 - every failure is reported
        report(name, e)


async def expect(condition, detail):
    assert condition, detail


async def echo(ws, payload):
    await ws.send(payload)
    reply = await ws.recv()
    assert type(reply) is type(payload), f"type {type(reply).__name__}"
    assert reply == payload, f"payload of {len(payload)} differs"


async def fragmented(ws):
    pieces = ["κόσμε ", "fragmented ", "message " * 100]
    await ws.send(iter(pieces))
    assert await ws.recv() == "".join(pieces)


async def ping(ws):
    waiter = await ws.ping(b"hb")
    await asyncio.wait_for(waiter, 5)


async def close(ws):
    await ws.close(4002, "python says bye")
    assert ws.close_code == 4002, ws.close_code
    assert ws.close_reason == "python says bye", ws.close_reason


async def main():
    for compression in (None, "deflate"):
        mode = "deflate" if compression else "plain"
        try:
            ws = await connect(URL, compression=compression, max_size=64 << 20,
                               subprotocols=["superchat", "chat"])
            report(f"{mode}: connect")
        except Exception as e:  # noqa: BLE001
            report(f"{mode}: connect", e)
            continue
        extensions = ws.response.headers.get("Sec-WebSocket-Extensions") or ""
        await check(f"{mode}: extension negotiated",
                    expect(("permessage-deflate" in extensions) == bool(compression), extensions))
        await check(f"{mode}: subprotocol", expect(ws.subprotocol == "superchat", ws.subprotocol))
        for size in (0, 125, 126, 65535, 65536, 16 << 20):
            data = bytes((i * 31 + 7) & 0xFF for i in range(size)) if size < 70000 else bytes(size)
            await check(f"{mode}: binary {size} B", echo(ws, data))
        await check(f"{mode}: JSON text", echo(ws, json.dumps([{"id": i, "ok": True} for i in range(5000)])))
        await check(f"{mode}: multi-byte UTF-8", echo(ws, "κόσμε 𝄞 € ✓ " * 500))
        await check(f"{mode}: fragmented send", fragmented(ws))
        await check(f"{mode}: ping/pong", ping(ws))
        await check(f"{mode}: close code and reason", close(ws))


asyncio.run(main())
sys.exit(1 if failed else 0)

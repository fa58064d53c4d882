"""Python `websockets` as a server for ferrosocket's client checks.

usage: python python_server.py PORT
  /echo         echoes every message (permessage-deflate by default)
  /close-first  sends "bye" then closes with 4000 "server done"
  /reject       refuses the upgrade with 403 and a body
"""
import asyncio
import http
import sys

from websockets.asyncio.server import serve


def process_request(connection, request):
    if request.path.startswith("/reject"):
        return connection.respond(http.HTTPStatus.FORBIDDEN, "forbidden here\n")
    return None


async def handler(ws):
    if ws.request.path.startswith("/close-first"):
        await ws.send("bye")
        await ws.close(4000, "server done")
        return
    async for message in ws:
        await ws.send(message)


async def main():
    port = int(sys.argv[1])
    async with serve(handler, "127.0.0.1", port, process_request=process_request, max_size=64 << 20):
        print(f"python websockets server listening on {port}", flush=True)
        await asyncio.Future()


asyncio.run(main())

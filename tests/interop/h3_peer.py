"""An independent RFC 9220 peer: aioquic's HTTP/3 (with pylsqpack's QPACK) and wsproto's
WebSocket frames, as a client against our HTTP/3 echo server, or as an echo server for our
client.

usage: python h3_peer.py client HOST:PORT CA.pem     (prints PASS/FAIL lines; exit 1 on a FAIL)
       python h3_peer.py server PORT CERT.pem KEY.pem (prints a `listening` line)
The server echoes at every path, selects the client's first subprotocol, and refuses
`/reject` with 403 and a body.
"""
import asyncio
import sys

from aioquic.asyncio import QuicConnectionProtocol, connect, serve
from aioquic.h3.connection import H3_ALPN, H3Connection
from aioquic.h3.events import DataReceived, HeadersReceived
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.events import StreamReset
from wsproto.connection import Connection, ConnectionType
from wsproto.events import BytesMessage, CloseConnection, Message, TextMessage
from wsproto.extensions import PerMessageDeflate


class WebSocketStream:
    """One WebSocket on an HTTP/3 request stream: wsproto frames inside DATA frames."""

    def __init__(self, protocol, stream_id, role, extensions=()):
        self.protocol = protocol
        self.stream_id = stream_id
        self.ws = Connection(role, extensions=list(extensions))
        self.events = asyncio.Queue()
        self.ended = asyncio.Event()
        self.reset_code = None

    def send(self, event, end_stream=False):
        self.protocol.h3.send_data(self.stream_id, self.ws.send(event), end_stream=end_stream)
        self.protocol.transmit()

    def received(self, data, ended):
        self.ws.receive_data(data or None)
        for event in self.ws.events():
            self.events.put_nowait(event)
        if ended:
            self.ws.receive_data(None)
            self.ended.set()

    async def message(self, timeout=10):
        """The next whole message, or the CloseConnection event."""
        parts = []
        while True:
            event = await asyncio.wait_for(self.events.get(), timeout)
            if isinstance(event, CloseConnection):
                return event
            if isinstance(event, Message):
                parts.append(event.data)
                if event.message_finished:
                    joined = "".join(parts) if isinstance(event, TextMessage) else b"".join(parts)
                    return joined


class Peer(QuicConnectionProtocol):
    """Routes HTTP/3 events to the WebSocket of their stream, or to a waiting request."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.h3 = H3Connection(self._quic)
        self.streams = {}
        self.responses = {}
        self.on_request = None

    def quic_event_received(self, event):
        if isinstance(event, StreamReset) and event.stream_id in self.streams:
            stream = self.streams[event.stream_id]
            stream.reset_code = event.error_code
            stream.ended.set()
        for h3_event in self.h3.handle_event(event):
            stream_id = h3_event.stream_id
            if isinstance(h3_event, HeadersReceived):
                if stream_id in self.responses:
                    self.responses.pop(stream_id).set_result(h3_event.headers)
                elif self.on_request is not None:
                    self.on_request(stream_id, dict(h3_event.headers), h3_event.headers)
            elif isinstance(h3_event, DataReceived) and stream_id in self.streams:
                self.streams[stream_id].received(h3_event.data, h3_event.stream_ended)

    async def open(self, authority, path, protocols=(), deflate=False):
        """Sends an extended CONNECT; returns (status, headers, WebSocketStream or None)."""
        stream_id = self._quic.get_next_available_stream_id()
        headers = [
            (b":method", b"CONNECT"),
            (b":protocol", b"websocket"),
            (b":scheme", b"https"),
            (b":authority", authority.encode()),
            (b":path", path.encode()),
            (b"sec-websocket-version", b"13"),
        ]
        if protocols:
            headers.append((b"sec-websocket-protocol", ", ".join(protocols).encode()))
        extension = PerMessageDeflate() if deflate else None
        if extension:
            headers.append((b"sec-websocket-extensions", f"{extension.name}; {extension.offer()}".encode()))
        future = asyncio.get_running_loop().create_future()
        self.responses[stream_id] = future
        self.h3.send_headers(stream_id, headers)
        self.transmit()
        answer = dict(await asyncio.wait_for(future, 10))
        status = int(answer[b":status"])
        if status != 200:
            return status, answer, None
        extensions = []
        if extension and b"sec-websocket-extensions" in answer:
            extension.finalize(answer[b"sec-websocket-extensions"].decode())
            extensions.append(extension)
        stream = WebSocketStream(self, stream_id, ConnectionType.CLIENT, extensions)
        self.streams[stream_id] = stream
        return status, answer, stream


failed = 0


def report(name, error=None):
    global failed
    if error is None:
        print(f"PASS aioquic-h3: {name}", flush=True)
    else:
        failed += 1
        print(f"FAIL aioquic-h3: {name}: {error!r}", flush=True)


async def check(name, coro):
    try:
        await coro
        report(name)
    except Exception as e:  # noqa: BLE001 - every failure is reported
        report(name, e)


async def client(target, ca):
    host, port = target.rsplit(":", 1)
    config = QuicConfiguration(is_client=True, alpn_protocols=H3_ALPN, server_name="localhost")
    config.load_verify_locations(ca)
    async with connect(host, int(port), configuration=config, create_protocol=Peer) as peer:
        authority = f"localhost:{port}"

        async def echo_text_and_binary():
            status, _, ws = await peer.open(authority, "/echo")
            assert status == 200, status
            ws.send(TextMessage(data="héllo over HTTP/3"))
            assert await ws.message() == "héllo over HTTP/3"
            blob = bytes(range(256)) * 400
            ws.send(BytesMessage(data=blob))
            assert await ws.message() == blob

        async def subprotocol_and_deflate():
            status, answer, ws = await peer.open(authority, "/chat", ["chat.v2", "chat.v1"], deflate=True)
            assert status == 200, status
            assert answer.get(b"sec-websocket-protocol") == b"chat.v2", answer
            offer = answer.get(b"sec-websocket-extensions", b"")
            assert offer.startswith(b"permessage-deflate"), answer
            text = "compressible " * 5000
            ws.send(TextMessage(data=text))
            assert await ws.message() == text

        async def two_websockets_on_one_connection():
            _, _, one = await peer.open(authority, "/one")
            _, _, two = await peer.open(authority, "/two")
            one.send(TextMessage(data="one"))
            two.send(TextMessage(data="two"))
            assert await two.message() == "two"
            assert await one.message() == "one"

        async def close_handshake_then_fin():
            _, _, ws = await peer.open(authority, "/bye")
            ws.send(CloseConnection(code=1000, reason="bye"))
            event = await ws.message()
            assert isinstance(event, CloseConnection) and event.code == 1000, event
            await asyncio.wait_for(ws.ended.wait(), 10)
            assert ws.reset_code is None, f"reset with {ws.reset_code}"

        async def a_bad_frame_gets_1002():
            _, _, ws = await peer.open(authority, "/bad")
            # An unmasked frame from a client: the server must close with 1002.
            peer.h3.send_data(ws.stream_id, b"\x81\x02hi", end_stream=False)
            peer.transmit()
            event = await ws.message()
            assert isinstance(event, CloseConnection) and event.code == 1002, event

        await check("echoes text and binary over HTTP/3", echo_text_and_binary())
        await check("negotiates the first subprotocol and permessage-deflate", subprotocol_and_deflate())
        await check("two WebSockets share one QUIC connection", two_websockets_on_one_connection())
        await check("close handshake, then the server's FIN", close_handshake_then_fin())
        await check("a protocol error is answered with 1002", a_bad_frame_gets_1002())
    return 1 if failed else 0


class EchoServer(Peer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.on_request = self.request

    def request(self, stream_id, fields, _raw):
        path = fields.get(b":path", b"/").decode()
        if fields.get(b":method") != b"CONNECT" or fields.get(b":protocol") != b"websocket":
            self.h3.send_headers(stream_id, [(b":status", b"400")], end_stream=True)
        elif path == "/reject":
            self.h3.send_headers(stream_id, [(b":status", b"403"), (b"content-type", b"text/plain")])
            self.h3.send_data(stream_id, b"403 forbidden by the aioquic peer", end_stream=True)
        else:
            answer = [(b":status", b"200")]
            offered = fields.get(b"sec-websocket-protocol")
            if offered:
                answer.append((b"sec-websocket-protocol", offered.split(b",")[0].strip()))
            self.h3.send_headers(stream_id, answer)
            stream = WebSocketStream(self, stream_id, ConnectionType.SERVER)
            self.streams[stream_id] = stream
            asyncio.ensure_future(self.echo(stream))
        self.transmit()

    async def echo(self, stream):
        while True:
            try:
                event = await stream.message(timeout=3600)
            except Exception:  # noqa: BLE001 - the stream is gone
                return
            if isinstance(event, CloseConnection):
                stream.send(event.response(), end_stream=True)
                return
            stream.send(TextMessage(data=event) if isinstance(event, str) else BytesMessage(data=event))


async def server(port, cert, key):
    config = QuicConfiguration(is_client=False, alpn_protocols=H3_ALPN)
    config.load_cert_chain(cert, key)
    await serve("127.0.0.1", int(port), configuration=config, create_protocol=EchoServer)
    print(f"aioquic HTTP/3 WebSocket echo listening on udp/{port}", flush=True)
    await asyncio.Future()


if __name__ == "__main__":
    if sys.argv[1] == "client":
        sys.exit(asyncio.run(client(sys.argv[2], sys.argv[3])))
    asyncio.run(server(*sys.argv[2:5]))

"""The devnet's transport: JSON-RPC over HTTP and WebSocket (aiohttp), and nothing else.

Like starknet-devnet's ``server.rs``, the transport only routes and logs: every request body
goes to :class:`~devnet.dispatch.Dispatcher`, which owns the JSON-RPC rules. Routes are
starknet-devnet's: ``POST /`` and ``POST /rpc`` (batches included), ``GET /is_alive``,
WebSocket at ``/ws`` (and an upgrade on ``/rpc``).

Executing a transaction runs Cairo in Python for a good part of a second, so no devnet code runs on
the server's event loop: a :class:`Worker` thread with its own loop runs every dispatcher call, the
block timer and the dump, one after another. That keeps ``/is_alive`` and WebSocket traffic
responsive and serializes all access to the chain without locks in the handlers.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import errno
import json
import logging
import signal
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from aiohttp import WSMsgType, web

from devnet.access import AccessPolicy
from devnet.banner import PredeployedContract, render_banner
from devnet.connection import SLOW_CONSUMER_CLOSE_CODE, Connection
from devnet.dispatch import Dispatcher, Limits
from devnet.errors import InvalidRequestError, ParseError, RpcError
from devnet.subscriptions import ConnectionDispatcher, SubscriptionHub
from smainer.config import DevnetSettings

if TYPE_CHECKING:
    from devnet.dna import DnaServer

log = logging.getLogger("devnet.server")

T = TypeVar("T")

MAX_BODY_BYTES = Limits.max_body_bytes
"""Largest request accepted (:attr:`devnet.dispatch.Limits.max_body_bytes`); bigger: 413."""

ALIVE_TEXT = "Alive!!!"
"""starknet-devnet's answer on ``GET /is_alive``; health checks written for it keep working."""

JSON_TYPE = "application/json"


class Worker:
    """A thread running its own event loop: every piece of devnet work runs there, in order.

    ``run`` submits a coroutine and awaits it from the server's loop; the awaiting side may be
    cancelled (a client went away) but the work itself is shielded: a transaction half-applied
    because its HTTP client disconnected would corrupt the chain.
    """

    def __init__(self, name: str = "devnet-worker") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def submit(self, work: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        return asyncio.run_coroutine_threadsafe(work, self.loop)

    async def run(self, work: Coroutine[Any, Any, T]) -> T:
        return await asyncio.shield(asyncio.wrap_future(self.submit(work)))

    async def call(self, function: Callable[..., T], *args: Any) -> T:
        """Run a plain (blocking) function on the worker."""
        return await self.run(_as_coroutine(function, *args))

    def stop(self) -> None:
        if self._thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout=30)
        if not self._thread.is_alive():
            self.loop.close()


async def _as_coroutine(function: Callable[..., T], *args: Any) -> T:
    return function(*args)


class RpcServer:
    """The aiohttp application around one dispatcher; ``hub`` enables WebSocket subscriptions."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        *,
        worker: Worker,
        hub: SubscriptionHub | None = None,
        max_body_bytes: int = MAX_BODY_BYTES,
        access: AccessPolicy | None = None,
    ) -> None:
        self.dispatcher = dispatcher
        self.worker = worker
        self.hub = hub
        self.max_body_bytes = max_body_bytes
        self.access = access or AccessPolicy()
        self.app = web.Application(client_max_size=max_body_bytes, middlewares=[self._guard])
        self.app.router.add_post("/", self._http_rpc)
        self.app.router.add_post("/rpc", self._http_rpc)
        self.app.router.add_get("/rpc", self._websocket)
        self.app.router.add_get("/ws", self._websocket)
        self.app.router.add_get("/is_alive", self._is_alive)
        self._sockets: set[web.WebSocketResponse] = set()
        self.app.on_shutdown.append(self._close_sockets)

    async def _is_alive(self, request: web.Request) -> web.Response:
        return web.Response(text=ALIVE_TEXT)

    @web.middleware
    async def _guard(self, request: web.Request, handler: _Handler) -> web.StreamResponse:
        """Refuse foreign pages (``Origin``) and rebound names (``Host``) on every route but
        ``/is_alive``, HTTP and WebSocket alike; answer CORS preflights of allowed origins."""
        if request.path == "/is_alive":
            return await handler(request)
        origin = request.headers.get("Origin")
        if not self.access.host_allowed(request.headers.get("Host")):
            return _refused(403, f"host {request.host!r} is not allowed")
        if not self.access.origin_allowed(origin):
            return _refused(403, f"origin {origin!r} is not allowed (see --allowed-origins)")
        if request.method == "OPTIONS" and origin is not None:
            response: web.StreamResponse = web.Response(status=204)
            response.headers["Access-Control-Allow-Methods"] = "POST, GET"
            response.headers["Access-Control-Allow-Headers"] = "Content-Type"
            response.headers["Access-Control-Max-Age"] = "600"
        else:
            response = await handler(request)
        if origin is not None and not response.prepared:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Vary"] = "Origin"
        return response

    async def _http_rpc(self, request: web.Request) -> web.Response:
        """One HTTP body of type ``application/json``: a browser may send ``text/plain`` (or no
        type) cross-origin without a CORS preflight, so those are refused with 415."""
        started = time.perf_counter()
        if request.content_type != JSON_TYPE:
            shown = request.headers.get("Content-Type", "none")[:100]
            return _refused(415, f"Content-Type must be {JSON_TYPE}, got {shown!r}")
        if (request.content_length or 0) > self.max_body_bytes:
            return self._too_large(request.content_length)
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return self._too_large(None)
        try:
            answer = await self.worker.run(self.dispatcher.handle(body))
        except Exception:  # the dispatcher answers every RpcError itself; this is a bug
            log.warning("request failed outside the dispatcher", exc_info=True)
            answer = _error_bytes(RpcError())
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "POST %s %s %dB -> %dB in %.1f ms",
                request.path,
                _method_names(body),
                len(body),
                len(answer or b""),
                (time.perf_counter() - started) * 1000,
            )
        if answer is None:  # only notifications: nothing is owed (JSON-RPC 2.0 section 4.1)
            return web.Response(status=204)
        return web.Response(body=answer, content_type=JSON_TYPE)

    def _too_large(self, size: int | None) -> web.Response:
        shown = f"{size} bytes" if size is not None else "the body"
        log.warning("rejected a request: %s exceeds %d bytes", shown, self.max_body_bytes)
        error = InvalidRequestError(f"request body exceeds {self.max_body_bytes} bytes")
        return web.Response(status=413, body=_error_bytes(error), content_type=JSON_TYPE)

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        """JSON-RPC over text (or binary) frames, answered in order; plus subscriptions."""
        ws = web.WebSocketResponse(max_msg_size=self.max_body_bytes)
        if not ws.can_prepare(request).ok:
            raise web.HTTPMethodNotAllowed("GET", ["POST"])
        await ws.prepare(request)
        _bound_send_buffer(request)
        self._sockets.add(ws)
        connection = Connection(asyncio.get_running_loop())
        dispatcher = ConnectionDispatcher(self.dispatcher, self.hub, connection)
        writer = asyncio.create_task(_write_frames(ws, connection))
        closer = asyncio.create_task(_close_when_overflowing(ws, request, connection, writer))
        log.debug("websocket opened from %s", request.remote)
        try:
            async for message in ws:
                if not connection.open:
                    break
                if message.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                    await self._ws_request(dispatcher, connection, message.data)
                elif message.type == WSMsgType.ERROR:
                    log.warning("websocket error: %s", ws.exception())
        finally:
            if self.hub is not None:
                await self.worker.run(self.hub.drop(connection))
            connection.close()
            closer.cancel()
            await asyncio.gather(writer, return_exceptions=True)  # cancelled if overflowed
            self._sockets.discard(ws)
            log.debug("websocket closed")
        return ws

    async def _ws_request(
        self, dispatcher: ConnectionDispatcher, connection: Connection, data: str | bytes
    ) -> None:
        started = time.perf_counter()
        try:
            answer = await self.worker.run(dispatcher.handle(data))
        except Exception:
            log.warning("websocket request failed outside the dispatcher", exc_info=True)
            answer = _error_bytes(RpcError())
        if answer is not None:
            connection.send_now(answer.decode())
        if self.hub is not None:
            # Subscriptions made by this request start notifying only now, after their reply.
            await self.worker.run(self.hub.activate(connection))
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "WS %s -> %dB in %.1f ms",
                _method_names(data),
                len(answer or b""),
                (time.perf_counter() - started) * 1000,
            )

    async def _close_sockets(self, app: web.Application) -> None:
        for ws in list(self._sockets):  # a client that stops reading must not hold shutdown up
            with contextlib.suppress(asyncio.TimeoutError, ConnectionError, RuntimeError):
                await asyncio.wait_for(
                    ws.close(code=1001, message=b"server shutdown"), SLOW_CONSUMER_GRACE_SECONDS
                )


async def _write_frames(ws: web.WebSocketResponse, connection: Connection) -> None:
    """Send replies and notifications in the order they were queued, until the socket closes."""
    while (text := await connection.next_frame()) is not None:
        try:
            if not ws.closed:
                await ws.send_str(text)
        except (ConnectionError, RuntimeError):
            log.debug("websocket went away while sending")
        finally:
            connection.sent(text)


WS_SEND_BUFFER_BYTES = 256 * 1024
"""Kernel send buffer of a WebSocket (Linux doubles it): with :class:`Connection`'s queue, what a
client that stops reading can make the server hold (autotuning would grow it to megabytes)."""

SLOW_CONSUMER_GRACE_SECONDS = 1.0
"""How long a slow consumer's close handshake may take before its connection is dropped."""


def _bound_send_buffer(request: web.Request) -> None:
    sock = request.transport.get_extra_info("socket") if request.transport else None
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, WS_SEND_BUFFER_BYTES)


async def _close_when_overflowing(
    ws: web.WebSocketResponse,
    request: web.Request,
    connection: Connection,
    writer: asyncio.Task[None],
) -> None:
    """Close a client whose send queue overflowed (it stopped reading): code 1008, a log line;
    if even the close frame cannot be written, drop the TCP connection."""
    await connection.overflow.wait()
    log.warning(
        "closing slow websocket consumer %s: %d frames (%d bytes) unread, limit %d frames or "
        "%d bytes",
        request.remote,
        connection.queued_frames,
        connection.queued_bytes,
        connection.max_frames,
        connection.max_bytes,
    )
    writer.cancel()
    with contextlib.suppress(asyncio.TimeoutError, ConnectionError, RuntimeError):
        await asyncio.wait_for(
            ws.close(code=SLOW_CONSUMER_CLOSE_CODE, message=b"send queue full"),
            SLOW_CONSUMER_GRACE_SECONDS,
        )
    if request.transport is not None:
        request.transport.abort()


_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _refused(status: int, reason: str) -> web.Response:
    """An HTTP refusal with a JSON-RPC ``-32600`` body, logged (clients see the reason)."""
    log.warning("refused a request: %s", reason)
    body = _error_bytes(InvalidRequestError(reason))
    return web.Response(status=status, body=body, content_type=JSON_TYPE)


def _error_bytes(error: RpcError) -> bytes:
    body = {"jsonrpc": "2.0", "id": None, "error": error.to_json()}
    return json.dumps(body, separators=(",", ":")).encode()


def _method_names(body: bytes | str) -> str:
    """The method(s) a body calls, for the debug log; never the params (they may hold keys)."""
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return f"<{ParseError.message}>"
    requests = parsed if isinstance(parsed, list) else [parsed]
    names = [r.get("method", "?") if isinstance(r, dict) else "?" for r in requests]
    return ",".join(str(n) for n in names) or "<empty batch>"


class BlockTimer:
    """``--block-time``: close the pre-confirmed block every ``seconds``, on the worker."""

    def __init__(self, worker: Worker, create_block: Callable[[], Any], seconds: float) -> None:
        self.worker = worker
        self.create_block = create_block
        self.seconds = seconds
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._tick())

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.seconds)
            try:
                await self.worker.call(self.create_block)
            except Exception:
                log.warning("timed block creation failed", exc_info=True)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


async def start_site(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Listen on ``host:port`` (``0``: any free port); returns the runner and the bound port.

    Raises :class:`OSError` when the address is taken, for the CLI to report in one line.
    """
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    bound = port
    for address in runner.addresses:
        if isinstance(address, tuple):
            bound = int(address[1])
            break
    return runner, bound


async def serve_rpc(
    server: RpcServer,
    host: str,
    port: int,
    *,
    on_ready: Callable[[int], None],
    stop: asyncio.Event,
) -> None:
    """Serve ``server`` until ``stop`` is set; ``on_ready(bound_port)`` once listening."""
    runner, bound = await start_site(server.app, host, port)
    try:
        on_ready(bound)
        await stop.wait()
    finally:
        await runner.cleanup()


# ``smainer devnet``: a Devnet, its dispatcher, the server, the banner, until Ctrl-C.


def run_devnet(settings: DevnetSettings, *, dna_port: int | None = None) -> None:
    """Serve a devnet until SIGINT/SIGTERM; dump to ``settings.dump_path`` on the way out.

    ``dna_port``: also serve an Apibara DNA v1alpha2 stream there (:mod:`devnet.dna`).
    Raises :class:`OSError` (one-line ``strerror``) when the address cannot be bound.
    """
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    asyncio.run(serve_devnet(settings, stop=None, on_ready=None, dna_port=dna_port))


async def serve_devnet(
    settings: DevnetSettings,
    *,
    stop: asyncio.Event | None,
    on_ready: Callable[[int], None] | None,
    out: Callable[[str], None] = print,
    dna_port: int | None = None,
) -> None:
    """Build the devnet on the worker, listen, print the banner, serve until ``stop``.

    ``stop`` ``None`` installs SIGINT/SIGTERM handlers that set one (the CLI); tests pass their
    own and ``on_ready`` to learn the bound port (``settings.port`` 0 picks a free one).
    """
    from devnet.app import build_dispatcher
    from devnet.state import Devnet

    loop = asyncio.get_running_loop()
    if stop is None:
        stop = asyncio.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
    worker = Worker()
    worker.start()
    runner: web.AppRunner | None = None
    timer: BlockTimer | None = None
    devnet: Devnet | None = None
    dna: DnaServer | None = None
    try:
        devnet = await worker.call(Devnet, settings)
        dispatcher = build_dispatcher(devnet)
        hub = SubscriptionHub(dispatcher, worker.loop)
        devnet.add_listener(hub.on_chain_event)
        server = RpcServer(
            dispatcher,
            worker=worker,
            hub=hub,
            max_body_bytes=dispatcher.limits.max_body_bytes,
            access=AccessPolicy.from_settings(settings),
        )
        try:
            runner, port = await start_site(server.app, settings.host, settings.port)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            if exc.errno == errno.EADDRINUSE:
                reason = "address already in use"
            where = f"{settings.host}:{settings.port}"
            raise OSError(exc.errno, f"cannot listen on {where}: {reason}") from None
        out(await worker.call(_banner, devnet, f"http://{settings.host}:{port}"))
        if dna_port is not None:  # Apibara DNA v1alpha2 (devnet/dna.py), same chain and loop
            from devnet.dna import start_dna_server

            dna = await start_dna_server(dispatcher, worker, settings.host, dna_port)
            devnet.add_listener(dna.stream.on_chain_event)
            out(f"Apibara DNA v1alpha2 stream on {settings.host}:{dna.port}")
        if settings.block_time is not None:
            timer = BlockTimer(worker, devnet.create_block, settings.block_time)
            timer.start()
        if on_ready is not None:
            on_ready(port)
        await stop.wait()
        log.info("shutting down")
    finally:
        if timer is not None:
            await timer.stop()
        if dna is not None:
            await dna.stop()
        if runner is not None:
            await runner.cleanup()
        if devnet is not None and settings.dump_path is not None:
            await worker.call(devnet.dump, settings.dump_path)
            log.info("state dumped to %s", settings.dump_path)
        worker.stop()


def _banner(devnet: Any, url: str) -> str:
    from devnet.codec import BlockId

    latest = BlockId(tag="latest")
    contracts = [
        PredeployedContract(name, address, devnet.get_class_hash_at(address, latest))
        for name, address in (
            ("STRK fee token", devnet.fee_token_address),
            ("ETH fee token", devnet.eth_token_address),
            ("UDC", devnet.udc_address),
        )
        if address is not None
    ]
    return render_banner(
        accounts=devnet.predeployed_accounts,
        account_class_hash=devnet.account_class_hash,
        contracts=contracts,
        chain_id=devnet.settings.chain_id,
        seed=devnet.settings.seed,
        url=url,
    )

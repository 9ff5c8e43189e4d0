"""How `casetasks serve` runs the process: websocket compression, and the garbage collector
tuned for many long-lived connections (bench/README.md, B5)."""

from __future__ import annotations

import gc
from pathlib import Path

import websockets
from websockets.typing import Subprotocol

from casetasks import workers
from tests.live import ServeProcess
from tests.processes import process_env

PROTOCOL = [Subprotocol("graphql-transport-ws")]


async def negotiated_extensions(database_url: str, folder: Path, **settings: str) -> str | None:
    """What a real `casetasks serve` answers to a client offering permessage-deflate (the
    websockets client offers it by default, as browsers do)."""
    server = ServeProcess(process_env(database_url, **settings), folder)
    await server.start()
    try:
        async with websockets.connect(server.ws_url, subprotocols=PROTOCOL) as socket:
            assert socket.response is not None
            return socket.response.headers.get("Sec-WebSocket-Extensions")
    finally:
        await server.stop()


async def test_websockets_are_not_compressed_unless_asked(
    database_url: str, tmp_path: Path
) -> None:
    assert await negotiated_extensions(database_url, tmp_path) is None
    compressed = await negotiated_extensions(
        database_url, tmp_path, WEBSOCKET_PER_MESSAGE_DEFLATE="true"
    )
    assert compressed is not None and "permessage-deflate" in compressed


def test_the_collector_is_tuned_and_the_start_up_heap_frozen() -> None:
    thresholds = gc.get_threshold()
    try:
        workers.tune_garbage_collector()
        assert gc.get_threshold() == workers.GC_THRESHOLDS
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)

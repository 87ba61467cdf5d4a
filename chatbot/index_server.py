"""Index, server mode: the chunks' collection on a ``chroma run`` server (``chroma_url``).

In: settings, chunks, the expected manifest. Out: a ``VectorStore`` whose collection is named
after the manifest digest, built on the server when it is missing.

Every request waits at most ``settings.chroma_timeout`` seconds: a server that accepts the
connection and never replies is reported as unavailable instead of blocking the answer (the
engine then answers from the table and keyword search with a notice). A server restarted
without the collection, or whose collection was re-made by ``chatbot build``, is picked up at
the next query: the store looks the collection up by name again and re-creates it if needed.
"""

from __future__ import annotations

import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import urlparse

from chatbot.errors import ServerUnavailableError
from chatbot.records import Chunk
from chatbot.settings import CHROMA_TIMEOUT, Settings

log = logging.getLogger("chatbot.index")

#: The heartbeat path of Chroma's v2 API.
HEARTBEAT = "/api/v2/heartbeat"


def unavailable(url: str, why: str) -> ServerUnavailableError:
    """The operator's message for a server that cannot be used (names the URL and the fix)."""
    return ServerUnavailableError(
        f"the Chroma server at {url} {why}; start it with `chroma run --path DIR --host 127.0.0.1 "
        "--port PORT`, raise CHATBOT_CHROMA_TIMEOUT, or unset CHATBOT_CHROMA_URL")


def heartbeat(url: str, timeout: float) -> None:
    """GET the heartbeat with a deadline (chromadb's own client waits without one)."""
    try:
        with urllib.request.urlopen(url.rstrip("/") + HEARTBEAT, timeout=timeout) as resp:
            resp.read(1024)
    except TimeoutError as exc:
        raise unavailable(url, f"did not answer within {timeout:g} s") from exc
    except urllib.error.HTTPError as exc:
        raise unavailable(url, f"answered HTTP {exc.code} to a heartbeat") from exc
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, TimeoutError):
            raise unavailable(url, f"did not answer within {timeout:g} s") from exc
        raise unavailable(url, f"does not answer ({type(reason).__name__})") from exc


def http_client(url: str, timeout: float = CHROMA_TIMEOUT):
    """A Chroma HTTP client for ``http://HOST:PORT`` whose requests time out after ``timeout``
    seconds; raises ``ServerUnavailableError``."""
    import chromadb
    import httpx

    from chatbot.index import _chroma_settings

    heartbeat(url, timeout)  # before chromadb's constructor, which makes requests of its own
    u = urlparse(url)
    try:
        client = chromadb.HttpClient(host=u.hostname or "127.0.0.1", port=u.port or 8000,
                                     ssl=u.scheme == "https", settings=_chroma_settings())
        session = getattr(getattr(client, "_server", None), "_session", None)
        if isinstance(session, httpx.Client):  # chromadb builds it with timeout=None
            session.timeout = httpx.Timeout(timeout)
        client.heartbeat()
    except Exception as exc:
        raise unavailable(url, f"does not answer ({type(exc).__name__})") from exc
    return client


def open_or_build_server(settings: Settings, chunks: Sequence[Chunk], manifest: dict,
                         progress: Callable[[str], None]):
    """The collection for this manifest on the Chroma server, built if it is missing; the
    returned store finds (or re-creates) it again when the server loses it."""
    from chatbot.index import VectorStore, _wrap, digest

    url = settings.chroma_url or ""
    name = f"{settings.collection}-{digest(manifest)}"
    lock = threading.Lock()

    def collection():
        with lock:  # one re-creation at a time
            client = http_client(url, settings.chroma_timeout)
            try:
                return _ensure_collection(client, name, settings, chunks, progress)
            except Exception as exc:
                raise _wrap(exc, url) from exc

    return VectorStore(collection(), url, reopen=collection)


def _ensure_collection(client, name: str, settings: Settings, chunks: Sequence[Chunk],
                       progress: Callable[[str], None]):
    from chatbot.index import _embed_with_cache, _fill

    coll = client.get_or_create_collection(name, metadata={"hnsw:space": "cosine"})
    if coll.count() != len(chunks):
        progress(f"building collection {name} on {settings.chroma_url}")
        if coll.count():
            client.delete_collection(name)
            coll = client.create_collection(name, metadata={"hnsw:space": "cosine"})
        vectors = _embed_with_cache(Path(settings.index_dir), chunks, progress)
        _fill(coll, chunks, vectors)
        log.info("built collection %s on %s (%d chunks)", name, settings.chroma_url, len(chunks))
    return coll

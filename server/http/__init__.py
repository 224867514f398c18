"""HTTP beside gRPC: LibreTranslate- and DeepL-compatible APIs, native JSON, a web page.

One FastAPI application served by uvicorn in the serving process, over the same engine
object as gRPC and through the same access control, shutdown gate, metrics and request
ids. Importing this package imports no web framework; `dragoman.server.http.server`
does.
"""

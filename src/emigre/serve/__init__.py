"""``emigre serve``: the HTTP API (FastAPI, OpenAPI at /openapi.json) and the web dashboard over an ensemble
store, with paired what-if jobs.

>>> from emigre.serve import create_app
>>> app = create_app("out/russia-2022")          # then: uvicorn, or fastapi.testclient.TestClient(app)
"""

from emigre.serve.app import create_app

__all__ = ["create_app"]

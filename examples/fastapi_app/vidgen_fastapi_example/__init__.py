"""An API service built on vidgen_db with FastAPI: the code of docs/fastapi.md.

Run it with ``uvicorn --factory vidgen_fastapi_example.main:create_app``.
"""

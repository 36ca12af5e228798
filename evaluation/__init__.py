"""Measuring the product: retrieval and extractive answers on XQuAD, at the edge.

`rag/` is the library; this package uses it and ingest, like app.py and bench/ do, so
the numbers describe the product's own reading, chunking, embedding and retrieval.
`python -m rag eval` is its command (rag's CLI hands the `eval` subcommand to
`evaluation.command`); the modules: `data` (XQuAD and distractor articles), `index`
(the cached eval index, filled by ingest's core), `metrics` (ranks, recall, latency),
`command` (the CLI).
"""

"""Benchmarks: latency, ingest throughput and scale, and a naive LangChain baseline. `python -m benchmarks`."""

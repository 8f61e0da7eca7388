"""SOP assistant: answers call-center agents' questions from the procedure pages only.

Pipeline (one module per stage, values flowing one way):
    importer -> corpus -> ingest (chunking, embeddings, store) -> retrieve -> answer -> rules
and `chain.ask` is the single path every caller (CLI, UI, evals, benchmarks) uses.
"""

__version__ = "0.1.0"

"""ocppnet benchmarks against real peers; ``python -m benchmarks all [--quick] [--out DIR]``."""

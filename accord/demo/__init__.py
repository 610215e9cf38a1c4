"""The deterministic demo network behind ``accord demo`` (and the benchmarks' large networks)."""

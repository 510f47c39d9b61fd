"""The deterministic synthetic organisation behind `ringfence demo` and the benchmarks."""

from app.demo.generator import DemoData, generate
from app.demo.sizes import SIZES, SizeSpec, size_spec

__all__ = ["SIZES", "DemoData", "SizeSpec", "generate", "size_spec"]

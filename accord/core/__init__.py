"""Domain-agnostic building blocks: the access chokepoint, audit log, errors."""

"""People, roles mapped to permissions, and API tokens."""

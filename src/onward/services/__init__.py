"""Use cases, one module per area; every write goes through here in one transaction."""

"""HTML pages, one router per area."""

"""Who said what: statements (reported speech) attributed to speakers."""

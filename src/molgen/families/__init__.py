"""Model families, each a registered plug-in (property, expression, generation)."""

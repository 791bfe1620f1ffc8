"""Region bounds of a game's Jacobian blocks (the family of bound methods)."""

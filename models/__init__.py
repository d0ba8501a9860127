"""Panel models of towns."""

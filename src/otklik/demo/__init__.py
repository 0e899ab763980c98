"""Demo data: the generated stream of residents' messages and its loader."""

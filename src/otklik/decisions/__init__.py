"""The registry of management decisions (управленческие решения) and their effect."""

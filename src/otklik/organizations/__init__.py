"""Organizations (executors) and the territories they cover."""

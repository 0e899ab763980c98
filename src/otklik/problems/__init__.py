"""Problems: clusters of cases about one thing in one place over time."""

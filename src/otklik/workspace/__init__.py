"""What the workspace keeps for each user: saved views of the queue."""

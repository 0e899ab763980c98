"""Cases: from message to answered — routing, deadlines, moderation, publishing, reopening."""

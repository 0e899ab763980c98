"""Local stand-ins for the platforms: HTTP, IMAP and SMTP servers on 127.0.0.1."""

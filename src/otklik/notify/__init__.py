"""The notifier: alerts about incidents and cases to the people on duty (Telegram, e-mail, a
signed webhook), deduplicated per subject, retried, escalated along a duty roster until
someone acknowledges from the alert itself; and the one delivery log every outgoing channel
shares (docs/notify.md)."""

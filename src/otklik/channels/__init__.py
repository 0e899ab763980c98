"""Channels: the platforms messages come from and answers go back to (VK, Telegram, OK,
e-mail, file exports, push endpoints), behind one connector interface. Used by intake
(receiving) and cases (publishing answers); it imports neither."""

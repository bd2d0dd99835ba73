"""The Telegram front (python-telegram-bot): handlers, rendering, access control."""

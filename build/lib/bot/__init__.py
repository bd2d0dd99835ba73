"""The fronts of ml-tutor: the `tutor` command, the terminal chat and the Telegram bot."""

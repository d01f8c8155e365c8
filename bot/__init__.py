"""The Telegram side of geobrief: settings, CLI, handlers, jobs, delivery; wires feeds and trainer together."""

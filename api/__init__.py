"""The server's own routes beside the pages (server.py): the door, hooks, reports, telemetry
and the read API. Presentation over HTTP; what they do lives in pmdata."""

"""gunicorn's settings for Huimin, read from the working directory by every way the app is served:
`make serve`, the systemd unit (deploy/huimin-web.service) and `make bench`, so the bench measures
the deployed configuration. Options given on the command line still win."""

import multiprocessing
import os

# Sync workers, about two per core: a worker waiting for PostgreSQL (a bid's commit waits for the
# WAL flush) leaves its core to another; threads would share one interpreter lock instead.
workers = int(os.environ.get("WEB_WORKERS") or 2 * multiprocessing.cpu_count())

"""Gunicorn settings for `make run` and the benchmark.

The access log leaves out the client address, user agent, referrer and query string:
reporters' connections must not be recorded anywhere.
"""

import os

bind = f"127.0.0.1:{os.environ.get('PORT', '5000')}"
# Processes rather than threads: each submission is CPU work (triage, sealing) under the GIL,
# and SQLite takes one writer at a time, so threads mostly wait on each other.
workers = int(os.environ.get("WEB_CONCURRENCY", str(min(2 * (os.cpu_count() or 1) + 1, 9))))
threads = int(os.environ.get("TIPLINE_THREADS", "1"))
accesslog = "-"
access_log_format = '%(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
# TIPLINE_TRUSTED_PROXIES is a hop count read by the app (ProxyFix), not an address list.
forwarded_allow_ips = "127.0.0.1"
timeout = 60

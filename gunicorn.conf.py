"""Gunicorn settings for `make run` and the benchmark.

The access log leaves out the client address, user agent, referrer and query string:
reporters' connections must not be recorded anywhere.
"""

import os

bind = f"127.0.0.1:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("TIPLINE_THREADS", "4"))
accesslog = "-"
access_log_format = '%(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
forwarded_allow_ips = os.environ.get("TIPLINE_TRUSTED_PROXIES", "127.0.0.1")
timeout = 60

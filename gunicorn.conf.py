"""Gunicorn settings for `make run` and the benchmark.

Reporters' connections must not be recorded anywhere: the access log (``tipline.weblog``)
writes no reporter request at all, and no console request whose URL carries a value (a token,
a tip id, a filter); never a client address, user agent or referrer. Errors are kept, without
request details. No ``Server`` banner, and no control socket in the home folder.
"""

import os

from tipline import weblog

bind = f"127.0.0.1:{os.environ.get('PORT', '5000')}"
# Processes rather than threads: each submission is CPU work (triage, sealing) under the GIL,
# and SQLite takes one writer at a time, so threads mostly wait on each other.
workers = int(os.environ.get("WEB_CONCURRENCY", str(min(2 * (os.cpu_count() or 1) + 1, 9))))
threads = int(os.environ.get("TIPLINE_THREADS", "1"))
accesslog = "-"
access_log_format = '%(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
logger_class = weblog.AccessLogger
# TIPLINE_TRUSTED_PROXIES is a hop count read by the app (ProxyFix), not an address list.
forwarded_allow_ips = "127.0.0.1"
timeout = 60
# gunicorn >= 25.1 opens a control socket, by default in ~/.gunicorn shared by every instance
# on the host: the tip line needs none.
control_socket_disable = True

weblog.quiet_server_header()
weblog.minute_app_log()

"""gunicorn's settings for KTO: ``gunicorn -c kto/gunicorn.conf.py kto.wsgi``.

The access log holds no IP address (no %(h)s) and no referrer or user agent; the tokens in
residents' links are cut to their first characters by the log-record factory that each worker
installs when Django starts (surveys/common/logs.py).
"""

import multiprocessing
import os

bind = os.environ.get("KTO_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
timeout = 30
accesslog = "-"
errorlog = "-"
access_log_format = '%(t)s "%(r)s" %(s)s %(B)s %(M)sms'

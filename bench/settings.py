"""Benchmark settings: production settings plus the bare baseline view (bench/urls.py), nothing else.

Selected only by the benchmark's server (DJANGO_SETTINGS_MODULE=bench.settings), so production has
no bench endpoint.
"""

from network.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
# wrk sends every request from 127.0.0.1; the driver gives each click its own X-Forwarded-For address
# so that the duplicate-click screen sees distinct visitors, as in real traffic.
TRACKING_TRUST_X_FORWARDED_FOR = True

"""Helpers of ``bench/bench_peers.py``: the studies, the X capture and "first image" detector,
the peer viewers, and the plain-script AI baseline."""

"""Run machinery: the run lock, shards, the shared rate limiter, heartbeats, the daily
scheduler and logging. Nothing here knows about OKRs; the application wires it together.
"""

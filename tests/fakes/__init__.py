"""Test doubles shared by the test suite and the benchmarks.

``fake_github`` serves a faithful fake of GitHub's REST API (version 2022-11-28) plus the private
``/_fake/`` protocol described in ``PROTOCOL.md`` that the stand-in runner speaks.
"""

"""runnerctl: the operators' command-line tool for a runner fleet stack.

Reads a stack's configuration through the same typed models as the Pulumi program
(``components.config``), asks GitHub and Docker what is really running, and drives Pulumi's
Automation API for rollbacks. Entry point: ``runnerctl.cli:main``.
"""

__version__ = "0.1.0"

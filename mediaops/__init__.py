"""mediaops: runbook automation for a Flux-managed media stack."""

__version__ = "0.1.0"
